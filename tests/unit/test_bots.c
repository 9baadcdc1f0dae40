/* test_bots.c - robots by User-Agent (bots.h): a table of real User-Agent
 * strings of crawlers, tools and headless browsers (robots) and of the
 * browsers readers use on Android, iOS and desktops (readers), every
 * generated pattern compiling alone, every example User-Agent of the
 * crawler-user-agents list recognised (when node_modules is there), and the
 * time of 100,000 checks of an ordinary Chrome User-Agent (printed, not
 * asserted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bots.h"
#include "bots_list.h"

#define LIST_JSON "node_modules/crawler-user-agents/crawler-user-agents.json"

static const char *const robots[] = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.6778.33 Safari/537.36",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 "
    "Safari/538.1",
    "curl/8.5.0",
    "curl/7.88.1",
    "Wget/1.21.4",
    "Wget/1.20.3 (linux-gnu)",
    "python-requests/2.31.0",
    "Python-urllib/3.11",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
    "+http://www.google.com/bot.html)",
    "Googlebot-Image/1.0",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; coccocbot-web/1.0; +http://help.coccoc.com/searchengine)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "Go-http-client/1.1",
    "okhttp/4.12.0",
    "Java/17.0.9",
    "Apache-HttpClient/4.5.14 (Java/17.0.9)",
    "Scrapy/2.11.0 (+https://scrapy.org)",
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot)",
    "Zalo-Bot/1.0",
    "HTTPie/3.2.2",
    "check_http/v2.3.3 (monitoring-plugins 2.3.3)",
    "Zabbix",
};

static const char *const readers[] = {
    /* Chrome: Windows, macOS, Linux, Android, iOS */
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    /* Android WebView on an Android 15 build the list names (AP3A.240617.008) */
    "Mozilla/5.0 (Linux; Android 15; Pixel 8 Build/AP3A.240617.008; wv) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36",
    /* Firefox: Windows, Android, iOS */
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
    /* Safari: iPhone, iPad, macOS */
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Safari/605.1.15",
    /* Cốc Cốc: Windows, Android, iOS */
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "coc_coc_browser/118.0.0 Chrome/112.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 11; M2101K7AG) AppleWebKit/537.36 (KHTML, like Gecko) "
    "coc_coc_browser/98.0.230 Mobile Chrome/92.0.4515.166 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) coc_coc_browser/127.0.0 Mobile/15E148 Safari/604.1",
    /* Zalo's in-app browser: Android, iOS */
    "Mozilla/5.0 (Linux; Android 12; SM-A528B Build/SP1A.210812.016; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 Zalo "
    "android/12100592 ZaloTheme/light ZaloLanguage/vi",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 Zalo iOS/473 ZaloTheme/light ZaloLanguage/vi",
    /* Samsung Internet */
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    /* Facebook's in-app browser, Edge, Opera, Xiaomi's browser */
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.41.106;FBBV/634516395;FBDV/iPhone14,5;"
    "FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBCR/;FBID/phone;FBLC/vi_VN;FBOP/80]",
    "Mozilla/5.0 (Linux; Android 13; SM-A536E Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 "
    "[FB_IAB/FB4A;FBAV/441.0.0.23.105;]",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
    "Mozilla/5.0 (Linux; U; Android 13; vi-vn; 2201117TG Build/TKQ1.221114.001) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 Mobile Safari/537.36 "
    "XiaoMi/MiuiBrowser/14.6.0-gn",
    /* A CUBOT phone: "bot" inside a brand name (the markers before the list counted it a robot) */
    "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_bots_patterns_compile_into_one_expression(void **state)
{
    (void)state;
    assert_int_equal(bots_init(), 0);
    assert_int_equal(bots_init(), 0); /* once; a second call only reads */
    assert_true(bots_pattern_count() > 1000);
    assert_string_equal(bots_source(), BOTS_LIST_SOURCE);
    assert_non_null(strstr(bots_source(), "crawler-user-agents "));
}

static void test_bots_every_generated_pattern_compiles_alone(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(bots_list); i++) {
        regex_t re;
        int rc = regcomp(&re, bots_list[i], REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (rc != 0)
            fail_msg("pattern %zu \"%s\" does not compile", i, bots_list[i]);
        regfree(&re);
    }
}

static void test_bots_crawlers_tools_and_headless_browsers_are_robots(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(robots); i++) {
        if (!bots_is_robot(robots[i]))
            fail_msg("not taken for a robot: %s", robots[i]);
    }
}

static void test_bots_empty_or_missing_user_agent_is_a_robot(void **state)
{
    (void)state;
    assert_true(bots_is_robot(""));
    assert_true(bots_is_robot(NULL));
}

static void test_bots_readers_browsers_on_android_ios_and_desktops_are_not_robots(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(readers); i++) {
        if (bots_is_robot(readers[i]))
            fail_msg("taken for a robot: %s", readers[i]);
    }
}

/* Every example User-Agent ("instances") of the list is a robot: the
 * conversion to POSIX kept what each pattern matches. */
static void test_bots_every_example_of_the_list_is_a_robot(void **state)
{
    (void)state;
    json_error_t err;
    json_t *list = json_load_file(LIST_JSON, 0, &err);
    if (!list) {
        fprintf(stderr, "   (skipped: %s not installed; run npm ci)\n", LIST_JSON);
        skip();
    }
    size_t i, k, checked = 0;
    json_t *entry, *ua;
    json_array_foreach(list, i, entry)
    {
        const char *pattern = json_string_value(json_object_get(entry, "pattern"));
        /* excluded by scripts/gen_bots.mjs: an Android build id of ordinary phones */
        if (pattern && strcmp(pattern, "AP3A\\.240617\\.008") == 0)
            continue;
        json_array_foreach(json_object_get(entry, "instances"), k, ua)
        {
            const char *s = json_string_value(ua);
            if (s && *s && !bots_is_robot(s))
                fail_msg("example of %s not taken for a robot: %s", pattern, s);
            checked++;
        }
    }
    json_decref(list);
    assert_true(checked > 1000);
    fprintf(stderr, "   %zu example User-Agents of the list checked\n", checked);
}

static void test_bots_time_of_100k_checks_of_chrome(void **state)
{
    (void)state;
    struct timespec a, b;
    int robots_seen = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 100000; i++)
        robots_seen += bots_is_robot(readers[3]);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    assert_int_equal(robots_seen, 0);
    fprintf(stderr, "   100000 checks of an Android Chrome User-Agent: %.1f ms (%.2f us each)\n",
            ms, ms / 100.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bots_patterns_compile_into_one_expression),
        cmocka_unit_test(test_bots_every_generated_pattern_compiles_alone),
        cmocka_unit_test(test_bots_crawlers_tools_and_headless_browsers_are_robots),
        cmocka_unit_test(test_bots_empty_or_missing_user_agent_is_a_robot),
        cmocka_unit_test(test_bots_readers_browsers_on_android_ios_and_desktops_are_not_robots),
        cmocka_unit_test(test_bots_every_example_of_the_list_is_a_robot),
        cmocka_unit_test(test_bots_time_of_100k_checks_of_chrome),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
