//! The driver: one pass over a capture in frame order (stateful: exchanges, contexts,
//! procedures), producing one [`FrameRecord`] per frame.
