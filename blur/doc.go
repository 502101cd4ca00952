// Package blur hides faces in video frames: who is hidden (a Policy, from
// --blur), how (a Style, from --blur-style) and how far around the face's
// box (Pad).
//
// A Blurrer keeps scratch Mats between calls: one per goroutine, closed
// once. It writes into the frame's own pixels: every pixel of the region is
// replaced by one computed at a far coarser scale (the region shrunk to
// about 16 pixels across and blurred again, 8 blocks across, or black), so
// the face's detail is gone from the output, not hidden under it.
package blur
