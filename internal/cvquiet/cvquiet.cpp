#include <opencv2/core/utils/logger.hpp>
#include "cvquiet.h"

void cvquiet_silence(void) {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
}
