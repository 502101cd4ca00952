// dlib's face descriptor for a given box: the 5-point shape predictor finds
// the landmarks inside the box, a 150 px chip with 0.25 padding is cut along
// them, and the ResNet maps the chip to 128 numbers. These are the steps
// (and the model files) go-face runs after its own HOG detector, and the
// ones the shared ground truth was made with.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include "dlib.h"

namespace {

using namespace dlib;

// The network layout stored in dlib_face_recognition_resnet_model_v1.dat
// (dlib's dnn_face_recognition_ex.cpp); deserialize needs the exact type.
template <template <int, template <typename> class, int, typename> class B, int N,
          template <typename> class BN, typename S>
using residual = add_prev1<B<N, BN, 1, tag1<S>>>;
template <template <int, template <typename> class, int, typename> class B, int N,
          template <typename> class BN, typename S>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<B<N, BN, 2, tag1<S>>>>>>;
template <int N, template <typename> class BN, int stride, typename S>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, S>>>>>;
template <int N, typename S> using ares = relu<residual<block, N, affine, S>>;
template <int N, typename S> using ares_down = relu<residual_down<block, N, affine, S>>;
template <typename S> using level0 = ares_down<256, S>;
template <typename S> using level1 = ares<256, ares<256, ares_down<256, S>>>;
template <typename S> using level2 = ares<128, ares<128, ares_down<128, S>>>;
template <typename S> using level3 = ares<64, ares<64, ares<64, ares_down<64, S>>>>;
template <typename S> using level4 = ares<32, ares<32, ares<32, S>>>;
using resnet = loss_metric<fc_no_bias<128, avg_pool_everything<
    level0<level1<level2<level3<level4<
    max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2,
    input_rgb_image_sized<150>>>>>>>>>>>>>;

char* dup(const std::string& s) { return strdup(s.c_str()); }

}  // namespace

struct embedder {
  shape_predictor sp;
  resnet net;
  std::vector<matrix<rgb_pixel>> chips;
  frontal_face_detector frontal;
  bool has_frontal = false;
};

embedder* embedder_new(const char* dir, char** err) {
  embedder* e = new embedder;
  std::string d = dir, sp_err, net_err;
  // The two files take about as long each (0.1 s of dlib's portable float
  // decoding): read them side by side, for the first described keyframe
  // of a run waits for both.
  std::thread sp([&] {
    try {
      deserialize(d + "/shape_predictor_5_face_landmarks.dat") >> e->sp;
    } catch (std::exception& x) {
      sp_err = x.what();
    }
  });
  try {
    deserialize(d + "/dlib_face_recognition_resnet_model_v1.dat") >> e->net;
  } catch (std::exception& x) {
    net_err = x.what();
  }
  sp.join();
  if (!sp_err.empty() || !net_err.empty()) {
    *err = dup(!sp_err.empty() ? sp_err : net_err);
    delete e;
    return nullptr;
  }
  return e;
}

void embedder_free(embedder* e) { delete e; }

int embedder_run(embedder* e, const uint8_t* bgr, int rows, int cols, int step,
                 const int* boxes, int n, float* descs, float* marks, char** err) {
  try {
    e->chips.resize(n);
    matrix<rgb_pixel> region;
    for (int i = 0; i < n; i++) {
      const int* b = boxes + 4 * i;
      // Copy a region around the box (half its size on each side, enough
      // for the padded chip) as RGB, rather than the whole frame.
      long w = b[2] - b[0] + 1, h = b[3] - b[1] + 1;
      long x0 = std::max(0L, b[0] - w / 2), y0 = std::max(0L, b[1] - h / 2);
      long x1 = std::min<long>(cols - 1, b[2] + w / 2), y1 = std::min<long>(rows - 1, b[3] + h / 2);
      region.set_size(y1 - y0 + 1, x1 - x0 + 1);
      for (long y = y0; y <= y1; y++) {
        const uint8_t* p = bgr + (size_t)y * step + 3 * x0;
        for (long x = x0; x <= x1; x++, p += 3) region(y - y0, x - x0) = rgb_pixel(p[2], p[1], p[0]);
      }
      rectangle box(b[0] - x0, b[1] - y0, b[2] - x0, b[3] - y0);
      full_object_detection shape = e->sp(region, box);
      for (unsigned long k = 0; k < 5 && k < shape.num_parts(); k++) {
        marks[10 * i + 2 * k] = shape.part(k).x() + x0;
        marks[10 * i + 2 * k + 1] = shape.part(k).y() + y0;
      }
      extract_image_chip(region, get_face_chip_details(shape, 150, 0.25), e->chips[i]);
    }
    if (n == 0) return 0;
    std::vector<matrix<float, 0, 1>> out = e->net(e->chips);
    for (int i = 0; i < n; i++) std::memcpy(descs + 128 * i, &out[i](0), 128 * sizeof(float));
  } catch (std::exception& x) {
    *err = dup(x.what());
    return -1;
  }
  return 0;
}

int embedder_frontal_load(embedder* e, const char* raw, long n, char** fresh, long* fresh_n, char** err) {
  *fresh = nullptr;
  *fresh_n = 0;
  if (raw != nullptr && n > 0) {
    try {
      std::istringstream in(std::string(raw, n));
      frontal_face_detector d;
      deserialize(d, in);
      if (d.num_detectors() > 0) {
        e->frontal = d;
        e->has_frontal = true;
        return 0;
      }
    } catch (std::exception&) {
      // not a detector dlib wrote: decode it afresh below
    }
  }
  try {
    e->frontal = get_frontal_face_detector();
    e->has_frontal = true;
    std::ostringstream out;
    serialize(e->frontal, out);
    std::string b = out.str();
    *fresh = (char*)malloc(b.size());
    if (*fresh != nullptr) {
      memcpy(*fresh, b.data(), b.size());
      *fresh_n = (long)b.size();
    }
  } catch (std::exception& x) {
    *err = dup(x.what());
    return -1;
  }
  return 0;
}

int embedder_frontal(embedder* e, const uint8_t* bgr, int rows, int cols, int step,
                     int* rects, int max, char** err) {
  if (!e->has_frontal) {
    *err = dup("the frontal face detector is not loaded");
    return -1;
  }
  try {
    matrix<rgb_pixel> img(rows, cols);
    for (long y = 0; y < rows; y++) {
      const uint8_t* p = bgr + (size_t)y * step;
      for (long x = 0; x < cols; x++, p += 3) img(y, x) = rgb_pixel(p[2], p[1], p[0]);
    }
    std::vector<rectangle> found = e->frontal(img);
    std::sort(found.begin(), found.end());
    int n = std::min<int>(max, (int)found.size());
    for (int i = 0; i < n; i++) {
      rects[4 * i] = found[i].left();
      rects[4 * i + 1] = found[i].top();
      rects[4 * i + 2] = found[i].right();
      rects[4 * i + 3] = found[i].bottom();
    }
    return n;
  } catch (std::exception& x) {
    *err = dup(x.what());
    return -1;
  }
}
