"""A PEP 517 build backend for the rthread binding, with the standard library only: the
binding is two pure-Python modules, and a fresh virtual environment has no setuptools to
build them with. Builds a wheel (py3-none-any) and an sdist; enough for `pip install`."""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _project():
    text = open(os.path.join(_HERE, "pyproject.toml"), encoding="utf-8").read()
    name = re.search(r'^name = "([^"]+)"', text, re.M).group(1)
    version = re.search(r'^version = "([^"]+)"', text, re.M).group(1)
    summary = re.search(r'^description = "([^"]+)"', text, re.M).group(1)
    requires = re.search(r'^requires-python = "([^"]+)"', text, re.M).group(1)
    modules = re.findall(r'"([A-Za-z_]+)"', re.search(r"^modules = \[(.*)\]", text, re.M).group(1))
    return name, version, summary, requires, modules


def _metadata():
    name, version, summary, requires, _ = _project()
    readme = open(os.path.join(_HERE, "README.md"), encoding="utf-8").read()
    return (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n"
            f"License: MIT OR Apache-2.0\nRequires-Python: {requires}\n"
            f"Description-Content-Type: text/markdown\n\n{readme}")


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version, _, _, modules = _project()
    dist_info = f"{name}-{version}.dist-info"
    wheel_name = f"{name}-{version}-py3-none-any.whl"
    files = {}
    for m in modules:
        files[f"{m}.py"] = open(os.path.join(_HERE, f"{m}.py"), "rb").read()
    files[f"{dist_info}/METADATA"] = _metadata().encode()
    files[f"{dist_info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: rthread_build\n"
                                   b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{dist_info}/top_level.txt"] = "".join(m + "\n" for m in modules).encode()
    record = [_record_line(p, d) for p, d in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w",
                         zipfile.ZIP_DEFLATED) as z:
        for p, d in files.items():
            z.writestr(zipfile.ZipInfo(p, date_time=(1980, 1, 1, 0, 0, 0)), d)
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    name, version, _, _, modules = _project()
    base = f"{name}-{version}"
    out = os.path.join(sdist_directory, base + ".tar.gz")
    with tarfile.open(out, "w:gz") as tar:
        for f in ["pyproject.toml", "README.md", "_build/rthread_build.py"] + \
                 [m + ".py" for m in modules]:
            tar.add(os.path.join(_HERE, f), arcname=f"{base}/{f}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return base + ".tar.gz"
