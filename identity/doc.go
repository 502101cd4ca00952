// Package identity decides whether a face is someone vidtag knows.
//
// Naming a stranger as a known person is the worst mistake a tagger can
// make, so a name needs three kinds of evidence, all in descriptor distance
// (face_recognition's units):
//
//   - Close enough: the face's descriptor (for a track, the mean of all its
//     descriptors) lies within the tolerance of one of the person's photos.
//   - Clearly nearer than any rival: its distance to the nearest person is
//     at most Ratio (0.8) times its distance to the rival, where the rival is
//     the next-nearest known person or, from the cohort, the nearest stranger
//     face of the same video that is itself not within tolerance of that
//     person. A face about as close to someone else, or to a stranger, as to
//     the person is not named: in a population the model crowds together,
//     being "near" a person says little unless it is nearer than the rest.
//   - A tolerance that fits the known set: Calibrate derives it from how far
//     each person's photos lie from each other and how close different
//     people's photos lie ("--tolerance auto").
//
// The margin (nearest distance / rival distance) is reported with each
// decision, so a user can see why a face was or was not named. Everything
// here is deterministic arithmetic on descriptors: no cgo, no randomness.
package identity
