/* movl devices [--json] [--check]: every OpenCL device with the selector it
 * answers to; --check also runs the driver self-test on each of them. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/common.h"
#include "device/device.h"
#include "device_json.h"
#include "ops/selftest.h"

static void print_tree(const movl_device_info *list, int n, int def)
{
    int last_platform = -1;
    for (int i = 0; i < n; i++) {
        const movl_device_info *d = &list[i];
        if (d->platform_index != last_platform) {
            printf("Platform #%d: %s (%s)\n", d->platform_index, d->platform_name, d->platform_version);
            last_platform = d->platform_index;
        }
        int last_in_platform = i + 1 == n || list[i + 1].platform_index != d->platform_index;
        printf(" %s-- Device %d:%d [%d] %s%s\n", last_in_platform ? "`" : "+", d->platform_index, d->device_index,
               d->flat_index, d->name, i == def ? "  (default)" : "");
        const char *bar = last_in_platform ? " " : "|";
        printf(" %s     type %s, vendor %s, driver %s, %s\n", bar, cli_device_type(d), d->vendor, d->driver_version,
               d->opencl_c_version);
        printf(" %s     %u compute units @ %u MHz, %.1f GiB global memory (max buffer %.1f GiB), %.0f KiB local\n",
               bar, d->compute_units, d->clock_mhz, d->global_mem / 1073741824.0, d->max_alloc / 1073741824.0,
               d->local_mem / 1024.0);
        printf(" %s     optional: fp16 %s, subgroups %s\n", bar, d->has_fp16 ? "yes" : "no",
               d->has_subgroups ? "yes" : "no");
    }
}

/* Result of the self-test of one device (--check). */
typedef struct device_check {
    int rc; /* MOVL_OK, MOVL_ERR_DEVICE, MOVL_ERR_RUN */
    char text[MOVL_ERRLEN];
} device_check;

static void run_checks(const movl_device_info *list, int n, device_check *out)
{
    for (int i = 0; i < n; i++) {
        char sel[32];
        snprintf(sel, sizeof sel, "%d:%d", list[i].platform_index, list[i].device_index);
        out[i].rc = cli_device_check(sel, 1, NULL, 0, out[i].text, sizeof out[i].text, out[i].text);
    }
}

static void print_checks(const movl_device_info *list, int n, const device_check *c)
{
    printf("\nself-test (small ops against the C reference):\n");
    for (int i = 0; i < n; i++)
        printf("  [%d] %s: %s%s\n", list[i].flat_index, list[i].name, c[i].rc == MOVL_OK ? "ok, " : "FAILED: ",
               c[i].text);
}

static int print_json(const movl_device_info *list, int n, int def, const device_check *checks)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "devices");
    for (int i = 0; i < n; i++) {
        const movl_device_info *d = &list[i];
        cJSON *o = cli_device_json(d);
        cJSON_AddBoolToObject(o, "default", i == def);
        if (checks) {
            cJSON *c = cJSON_AddObjectToObject(o, "self_test");
            cJSON_AddBoolToObject(c, "ok", checks[i].rc == MOVL_OK);
            cJSON_AddStringToObject(c, "detail", checks[i].text);
        }
        cJSON_AddItemToArray(arr, o);
    }
    char *s = cJSON_Print(root);
    int ok = s && printf("%s\n", s) > 0;
    free(s);
    cJSON_Delete(root);
    return ok ? MOVL_OK : MOVL_ERR_RUN;
}

int cmd_devices(int argc, char **argv)
{
    int json = 0, check = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--check"))
            check = 1;
        else if (!cli_common_flag(argv[i])) {
            fprintf(stderr, "movl devices: unknown option '%s' (expected --json or --check)\n", argv[i]);
            return cli_usage_error("devices", NULL);
        }
    }
    char err[MOVL_ERRLEN];
    movl_device_info *list;
    int n;
    if (movl_device_list(&list, &n, err) != MOVL_OK) {
        fprintf(stderr, "movl devices: %s\n", err);
        return MOVL_ERR_RUN;
    }
    if (n == 0) {
        fprintf(stderr, "movl devices: no OpenCL platform or device found\n%s\n", movl_install_hint());
        return MOVL_ERR_INPUT;
    }
    /* The default ignores MOVL_DEVICE only when it is unset; show what a run would pick. */
    int def = movl_device_select(list, n, NULL, err);
    device_check *checks = check ? calloc((size_t)n, sizeof *checks) : NULL;
    if (checks)
        run_checks(list, n, checks);
    int rc = json ? print_json(list, n, def, checks) : (print_tree(list, n, def), MOVL_OK);
    if (checks && !json)
        print_checks(list, n, checks);
    /* The worst outcome decides the exit code: a failed device beats an OpenCL error. */
    for (int i = 0; checks && i < n && rc != MOVL_ERR_DEVICE; i++)
        if (checks[i].rc != MOVL_OK)
            rc = checks[i].rc;
    free(checks);
    free(list);
    return rc;
}
