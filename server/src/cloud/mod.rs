//! The cloud layer: which platform we run on, where data should live, how the
//! front door is reached from outside (platform proxies, tunnels), and the GPU.
