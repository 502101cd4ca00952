// Package blur hides faces in video frames: who is hidden (a Policy, from
// --blur), how (a Style, from --blur-style) and how far around the face's
// box (Pad).
//
// A Blurrer keeps scratch Mats between calls: one per goroutine, closed
// once. It writes into the frame's own pixels; nothing of the hidden face
// survives in the frame (every pixel of the region is replaced by a value
// computed from the whole region at a far coarser scale), so the sharp face
// cannot be recovered from the output.
package blur
