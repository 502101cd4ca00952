// Package gallery holds the known faces and names the nearest one.
//
// A known-faces folder has one photo per person (the file name without its
// extension is the label: "Barack Obama.jpg") and/or one sub-folder per
// person with several photos (the folder name is the label). Every photo must
// show exactly one face: a photo with none or with several is reported by
// name and skipped, never guessed at. Matching is by Euclidean distance
// between 128-d descriptors, the units of face_recognition's tolerance.
package gallery
