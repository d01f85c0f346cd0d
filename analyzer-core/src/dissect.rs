//! Pass 2: a pure per-frame dissection tree (frame bytes + its record -> tree), for display.
