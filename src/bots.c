/* bots.c - robot detection by case-insensitive User-Agent markers. */
#include "bots.h"

#include <stddef.h>
#include <string.h>

int bots_is_robot(const char *ua)
{
    static const char *const markers[] = {
        "bot",           "crawl",          "spider",
        "slurp",         "mediapartners",  "facebookexternalhit",
        "bingpreview",   "monitor",        "uptime",
        "pingdom",       "statuscake",     "site24x7",
        "zabbix",        "nagios",         "check_http",
        "curl/",         "wget/",          "python-requests",
        "python-urllib", "go-http-client", "okhttp",
        "java/",         "libwww",         "httpclient",
        "scrapy",        "lighthouse",     "pagespeed",
        "feedfetcher",   "validator",
    };
    if (ua == NULL || *ua == '\0')
        return 1;
    for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
        if (strcasestr(ua, markers[i]))
            return 1;
    }
    return 0;
}
