//! The `queue` module: Queue, LifoQueue, PriorityQueue, SimpleQueue.
