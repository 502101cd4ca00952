// Package pipeline runs a linear chain of stages over a stream of items, one
// goroutine per stage, with bounded channels between them. It knows nothing
// of video or faces, so its tests need no cgo.
//
// Contracts:
//
//   - The runner owns every channel. A Stage only sees one item at a time and
//     must not keep it after Process returns.
//   - Sending an item downstream hands it over. The runner calls Release
//     exactly once for every item the Source produced: after the last step,
//     or when the item is dropped because the run stopped. A last step that
//     passes an item out of the run (live's display) moves its contents to a
//     new item the receiver owns (stages.Frame.Move) and leaves the runner
//     an empty one, whose Release does nothing.
//   - A Holder step may keep items to look ahead (a tracker that labels a
//     frame with what the next second shows); it returns them, in order, and
//     hands back whatever it still holds when the run ends or stops.
//   - A step with several workers processes items in parallel and emits them
//     in the order they arrived. At most Window items are inside such a step
//     at once, so memory stays bounded however uneven the work is.
//   - The first error from a Source or a Stage cancels the run; Run returns
//     that error after every goroutine has stopped and every item is released.
//     Cancelling ctx stops the run the same way and Run returns ctx.Err().
//   - End of input flows down the chain: the Source returns io.EOF, each step
//     finishes what it holds and closes its output.
package pipeline
