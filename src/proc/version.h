#ifndef THAMDO_VERSION_H
#define THAMDO_VERSION_H
#define THAMDO_VERSION "0.1.0"
#endif
