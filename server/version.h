/* version.h - kvfleetd version string. */
#ifndef KVFLEET_CTL_VERSION_H
#define KVFLEET_CTL_VERSION_H
#define KVFLEETD_VERSION "0.1.0"
#endif
