// The GDCM side of dicom_decode.h: the only C++ in movl. GDCM was chosen over
// DCMTK because Debian's GDCM decodes every transfer syntax the tests need,
// JPEG 2000 included (through OpenJPEG), with no add-on module; free DCMTK
// has no JPEG 2000 codec. Every GDCM call runs inside try/catch so that no
// C++ exception crosses into the C runtime.
#include <csetjmp>
#include <csignal>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <gdcmAttribute.h>
#include <gdcmImageReader.h>
#include <gdcmTrace.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

extern "C" {
#include "core/common.h"
#include "imgio/dicom_decode.h"
#include "imgio/dicom_scan.h"
}

namespace {

// The first value of a string attribute (multi-valued ones are split by '\'), trimmed; "" when absent.
std::string first_value(const gdcm::DataSet &ds, uint16_t group, uint16_t element)
{
    const gdcm::Tag tag(group, element);
    if (!ds.FindDataElement(tag))
        return "";
    const gdcm::DataElement &de = ds.GetDataElement(tag);
    const gdcm::ByteValue *bv = de.GetByteValue();
    if (!bv || !bv->GetPointer())
        return "";
    std::string s(bv->GetPointer(), bv->GetLength());
    s = s.substr(0, s.find('\\'));
    size_t a = s.find_first_not_of(" \t\r\n");
    size_t b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// A decimal string attribute's first value into *v; false when absent or not a finite number.
bool number_value(const gdcm::DataSet &ds, uint16_t group, uint16_t element, double *v)
{
    std::string s = first_value(ds, group, element);
    if (s.empty())
        return false;
    char *end = nullptr;
    double x = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != 0 || !std::isfinite(x))
        return false;
    *v = x;
    return true;
}

// Sample i of a decoded buffer as the stored value: the bits_stored bits below and including high_bit,
// sign-extended when signed (the bits above are not pixel data and may hold overlays or garbage).
double stored_value(const unsigned char *buf, size_t i, int bytes, int bits_stored, int high_bit, int is_signed,
                    bool swap_halves)
{
    uint64_t raw = 0;
    for (int k = bytes - 1; k >= 0; k--) // GDCM hands out the host's (little-endian) byte order
        raw = raw << 8 | buf[i * (size_t)bytes + (size_t)k];
    if (swap_halves)
        raw = (raw >> 16 | raw << 16) & 0xffffffffu;
    int shift = high_bit + 1 - bits_stored;
    uint64_t mask = bits_stored >= 64 ? ~0ull : (1ull << bits_stored) - 1;
    uint64_t u = (raw >> shift) & mask;
    if (is_signed && bits_stored < 64 && (u >> (bits_stored - 1)) & 1)
        return (double)(int64_t)(u | ~mask);
    return (double)u;
}

int decode(const char *path, int all_frames, movl_dicom_pixels *out, char *err)
{
    gdcm::Trace::WarningOff(); // GDCM's notes on odd files go to stderr otherwise; errors are ours to word
    gdcm::Trace::ErrorOff();
    gdcm::Trace::DebugOff();
    int scanned = movl_dicom_scan_file(path, err); // before GDCM allocates what a corrupt length says
    if (scanned != MOVL_OK)
        return scanned;
    gdcm::ImageReader reader;
    reader.SetFileName(path);
    if (!reader.Read()) {
        movl_set_error(err, "%s: not a readable DICOM image (no pixel data, or the file is corrupt or truncated)",
                       path);
        return MOVL_ERR_INPUT;
    }
    gdcm::Image image = reader.GetImage();
    const gdcm::DataSet &ds = reader.GetFile().GetDataSet();
    const std::string ts = gdcm::TransferSyntax::GetTSString(image.GetTransferSyntax());
    gdcm::PhotometricInterpretation pi = image.GetPhotometricInterpretation();
    std::snprintf(out->photometric, sizeof out->photometric, "%s", pi.GetString() ? pi.GetString() : "unknown");

    const gdcm::PixelFormat pf = image.GetPixelFormat();
    const int spp = pf.GetSamplesPerPixel();
    const int alloc = pf.GetBitsAllocated(), stored = pf.GetBitsStored(), high = pf.GetHighBit();
    const int is_signed = pf.GetPixelRepresentation();
    const bool palette = pi == gdcm::PhotometricInterpretation::PALETTE_COLOR;
    const bool grey = pi == gdcm::PhotometricInterpretation::MONOCHROME1 ||
                      pi == gdcm::PhotometricInterpretation::MONOCHROME2;
    const bool ybr = pi == gdcm::PhotometricInterpretation::YBR_FULL ||
                     pi == gdcm::PhotometricInterpretation::YBR_FULL_422;
    if (!((spp == 1 && (grey || palette)) ||
          (spp == 3 && (ybr || pi == gdcm::PhotometricInterpretation::RGB ||
                        pi == gdcm::PhotometricInterpretation::YBR_ICT ||
                        pi == gdcm::PhotometricInterpretation::YBR_RCT)))) {
        movl_set_error(err, "%s: photometric interpretation %s with %d samples per pixel is not supported "
                       "(expected MONOCHROME1/2, RGB, YBR_FULL or PALETTE COLOR)", path, out->photometric, spp);
        return MOVL_ERR_INPUT;
    }
    if (pf.GetScalarType() == gdcm::PixelFormat::FLOAT32 || pf.GetScalarType() == gdcm::PixelFormat::FLOAT64 ||
        pf.GetScalarType() == gdcm::PixelFormat::FLOAT16) {
        movl_set_error(err, "%s: floating-point pixel data is not supported (expected integer samples)", path);
        return MOVL_ERR_INPUT;
    }
    if (!(alloc == 1 || alloc == 8 || alloc == 16 || alloc == 32) || stored < 1 || stored > alloc ||
        high < stored - 1 || high >= alloc) {
        movl_set_error(err, "%s: bits allocated/stored/high bit %d/%d/%d are not supported (expected 1, 8, 16 or 32 "
                       "bits allocated)", path, alloc, stored, high);
        return MOVL_ERR_INPUT;
    }
    if (spp == 3 && alloc > 8 && image.GetTransferSyntax() == gdcm::TransferSyntax::RLELossless) {
        // GDCM 3.0 orders the byte segments of 16/32-bit colour RLE wrongly (its own gdcmconv agrees with it, not with the standard)
        movl_set_error(err, "%s: %d-bit colour RLE is not supported by this DICOM decoder (expected 8-bit colour, or grey)",
                       path, alloc);
        return MOVL_ERR_INPUT;
    }
    const unsigned w = image.GetDimension(0), h = image.GetDimension(1);
    const unsigned nframes = image.GetNumberOfDimensions() > 2 ? image.GetDimension(2) : 1;
    if (w == 0 || h == 0 || nframes == 0 || nframes > 65536 || w > 65535 || h > 65535) {
        movl_set_error(err, "%s: image size %ux%u with %u frames is not an image", path, w, h, nframes);
        return MOVL_ERR_INPUT;
    }
    const size_t npx = (size_t)w * h, per_frame = npx * (size_t)spp;
    const size_t need = (per_frame * nframes * (size_t)alloc + 7) / 8;
    const unsigned keep_frames = all_frames ? nframes : 1;
    // Bounds on what one file may make movl allocate (the pixels GDCM decodes, and the kept samples as
    // doubles): 1 GiB and 64 Mi samples, e.g. 256 frames of 512 x 512 kept, 2048 of them decoded.
    if (need > (size_t)1 << 30 || per_frame * keep_frames > (size_t)1 << 26) {
        movl_set_error(err, "%s: %ux%u pixels x %u frames x %d samples is more than one image file may hold here "
                       "(1 GiB decoded, 64 Mi samples kept)", path, w, h, nframes, spp);
        return MOVL_ERR_INPUT;
    }
    const unsigned long len = image.GetBufferLength();
    const gdcm::Tag pixel_data(0x7fe0, 0x0010);
    const gdcm::ByteValue *native = ds.FindDataElement(pixel_data) ? ds.GetDataElement(pixel_data).GetByteValue() : nullptr;
    // Uncompressed pixel data cut short: GDCM pads the missing bytes silently, so the file's size is checked
    // against the length its elements declare (not for deflated files, whose size says nothing of that).
    const gdcm::TransferSyntax tsx = image.GetTransferSyntax();
    // Uncompressed YBR_FULL_422 stores Y0 Y1 Cb Cr per pair of pixels (two thirds of the full size).
    const bool subsampled = native && pi == gdcm::PhotometricInterpretation::YBR_FULL_422;
    if (subsampled && (alloc != 8 || w % 2)) {
        movl_set_error(err, "%s: uncompressed YBR_FULL_422 with %d bits or an odd width %u is not supported", path,
                       alloc, w);
        return MOVL_ERR_INPUT;
    }
    if (native && tsx != gdcm::TransferSyntax::DeflatedExplicitVRLittleEndian) {
        const gdcm::FileMetaInformation &meta = reader.GetFile().GetHeader();
        uint64_t declared = (uint64_t)meta.GetFullLength() + // the preamble and "DICM" included
                            (uint64_t)(tsx.IsImplicit() ? ds.GetLength<gdcm::ImplicitDataElement>()
                                                        : ds.GetLength<gdcm::ExplicitDataElement>());
        struct stat st;
        const size_t native_need = subsampled ? need / 3 * 2 : need;
        if (stat(path, &st) == 0 && (uint64_t)st.st_size < declared) {
            movl_set_error(err, "%s: truncated file (%llu bytes, its elements declare %llu)", path,
                           (unsigned long long)st.st_size, (unsigned long long)declared);
            return MOVL_ERR_INPUT;
        }
        if (native->GetLength() < native_need) {
            movl_set_error(err, "%s: pixel data holds %u bytes, %zu expected for %ux%ux%u", path,
                           (unsigned)native->GetLength(), native_need, w, h, nframes);
            return MOVL_ERR_INPUT;
        }
    }
    if (len < need) {
        movl_set_error(err, "%s: pixel data holds %lu bytes, %zu expected for %ux%ux%u (transfer syntax %s)", path, len,
                       need, w, h, nframes, ts.c_str());
        return MOVL_ERR_INPUT;
    }
    // GDCM's filters (ImageApplyLookupTable, ImageChangePlanarConfiguration) corrupt the heap on some
    // files in GDCM 3.0, so the palette and the colour planes are handled here on the plain buffer.
    std::vector<unsigned char> bytes(len);
    if (!image.GetBuffer(reinterpret_cast<char *>(bytes.data()))) {
        movl_set_error(err, "%s: cannot decode the pixel data (transfer syntax %s; corrupt, truncated or unsupported)",
                       path, ts.c_str());
        return MOVL_ERR_INPUT;
    }
    const unsigned keep = all_frames ? nframes : 1;
    const int out_spp = palette ? 3 : spp;
    const size_t n = npx * (size_t)out_spp * keep;
    double *v = static_cast<double *>(std::malloc(sizeof(double) * n));
    if (!v) {
        movl_set_error(err, "%s: out of memory for %ux%ux%u pixels", path, w, h, keep);
        return MOVL_ERR_RUN;
    }
    int out_bits = stored;
    if (palette) { // indices through the file's red, green and blue tables
        const gdcm::LookupTable &lut = image.GetLUT();
        const int lut_bytes = lut.GetBitSample() / 8;
        if (!lut.Initialized() || (lut_bytes != 1 && lut_bytes != 2) || alloc > 16 || alloc < 8) {
            std::free(v);
            movl_set_error(err, "%s: the palette colour lookup table is missing or unsupported", path);
            return MOVL_ERR_INPUT;
        }
        const size_t in_len = npx * keep * (size_t)(alloc / 8), out_len = npx * keep * 3 * (size_t)lut_bytes;
        std::vector<unsigned char> rgb(out_len);
        if (!lut.Decode(reinterpret_cast<char *>(rgb.data()), out_len, reinterpret_cast<const char *>(bytes.data()),
                        in_len)) {
            std::free(v);
            movl_set_error(err, "%s: cannot apply the palette colour lookup table", path);
            return MOVL_ERR_INPUT;
        }
        for (size_t i = 0; i < n; i++)
            v[i] = lut_bytes == 2 ? rgb[2 * i] | rgb[2 * i + 1] << 8 : rgb[i];
        out_bits = 8 * lut_bytes;
    } else if (subsampled) { // each pixel of a pair takes its own Y and the pair's Cb, Cr
        const unsigned char *src = reinterpret_cast<const unsigned char *>(native->GetPointer());
        for (size_t p = 0; p < npx * keep; p += 2, src += 4)
            for (int k = 0; k < 2; k++) {
                v[3 * (p + k)] = src[k];
                v[3 * (p + k) + 1] = src[2];
                v[3 * (p + k) + 2] = src[3];
            }
    } else if (alloc == 1) { // packed bits, least significant first
        for (size_t i = 0; i < n; i++)
            v[i] = (bytes[i / 8] >> (i % 8)) & 1;
    } else {
        // GDCM 3.0 swaps 32-bit big-endian samples as two 16-bit halves; put the halves back.
        const bool halves = alloc == 32 && image.GetTransferSyntax() == gdcm::TransferSyntax::ExplicitVRBigEndian;
        for (size_t i = 0; i < n; i++) {
            // planar configuration 1 stores each frame as three planes: sample i comes from its plane
            size_t f = i / per_frame, r = i % per_frame;
            size_t src = spp == 3 && image.GetPlanarConfiguration() == 1 ? f * per_frame + (r % 3) * npx + r / 3 : i;
            double x = stored_value(bytes.data(), src, alloc / 8, stored, high, is_signed, halves);
            v[i] = x;
        }
    }
    // YBR_FULL and YBR_FULL_422 (GDCM hands both out at full resolution, JPEG ones undecoded from YCbCr)
    // to RGB: ITU-R BT.601 full range, PS3.3 C.7.6.3.1.2.
    if (ybr) {
        const double mid = (double)(1u << (stored - 1)), top = (double)((1ull << stored) - 1);
        for (size_t i = 0; i < n; i += 3) {
            double y = v[i], cb = v[i + 1] - mid, cr = v[i + 2] - mid;
            double rgb[3] = {y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb};
            for (int c = 0; c < 3; c++)
                v[i + c] = std::fmin(top, std::fmax(0.0, std::round(rgb[c])));
        }
    }
    out->w = (int)w;
    out->h = (int)h;
    out->frames = (int)keep;
    out->frames_in_file = (int)nframes;
    out->spp = out_spp;
    out->monochrome1 = pi == gdcm::PhotometricInterpretation::MONOCHROME1;
    out->bits_stored = out_bits;
    out->is_signed = is_signed;
    out->slope = 1;
    out->intercept = 0;
    double s, b;
    if (number_value(ds, 0x0028, 0x1053, &s) && s != 0)
        out->slope = s;
    if (number_value(ds, 0x0028, 0x1052, &b))
        out->intercept = b;
    double c, wd;
    out->has_window = number_value(ds, 0x0028, 0x1050, &c) && number_value(ds, 0x0028, 0x1051, &wd) && wd > 0;
    if (out->has_window) {
        out->center = c;
        out->width = wd;
    }
    const std::string fn = first_value(ds, 0x0028, 0x1056);
    out->voi_function = fn == "SIGMOID" ? MOVL_VOI_SIGMOID : fn == "LINEAR_EXACT" ? MOVL_VOI_LINEAR_EXACT : MOVL_VOI_LINEAR;
    out->v = v;
    return MOVL_OK;
}

} // namespace

// GDCM is built with assert() on in Debian, and a few malformed files trip one (an RTDOSE frame pointer
// without a frame count, for one): abort() would end the whole program. While this thread decodes, SIGABRT
// jumps back here instead; the decoder's partial state is leaked, which is the price of not crashing.
thread_local sigjmp_buf *abort_jump = nullptr;

extern "C" void on_abort(int sig)
{
    if (abort_jump)
        siglongjmp(*abort_jump, 1);
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

// GDCM, OpenJPEG and assert() write their own notes to stderr; movl's one-line error says what failed, so
// they are shown only with -v.
struct quiet_stderr {
    int saved = -1;
    quiet_stderr()
    {
#ifdef MOVL_FUZZING // the fuzzer's crash reports go to stderr, also from inside a decode
        return;
#endif
        if (movl_verbose)
            return;
        std::fflush(stderr);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0 && (saved = dup(2)) >= 0)
            dup2(null, 2);
        if (null >= 0)
            close(null);
    }
    ~quiet_stderr()
    {
        if (saved >= 0) {
            std::fflush(stderr);
            dup2(saved, 2);
            close(saved);
        }
    }
};

extern "C" int movl_dicom_decode(const char *path, int all_frames, movl_dicom_pixels *out, char *err)
{
    std::memset(out, 0, sizeof *out);
    quiet_stderr quiet;
    struct sigaction guard, previous;
    std::memset(&guard, 0, sizeof guard);
    guard.sa_handler = on_abort;
    sigemptyset(&guard.sa_mask);
    sigaction(SIGABRT, &guard, &previous);
    sigjmp_buf jump;
    int rc;
    if (sigsetjmp(jump, 1)) {
        abort_jump = nullptr;
        sigaction(SIGABRT, &previous, nullptr);
        std::memset(out, 0, sizeof *out); // whatever was allocated is lost with the decoder's state
        movl_set_error(err, "%s: malformed DICOM file (the decoder failed an internal check)", path);
        return MOVL_ERR_INPUT;
    }
    abort_jump = &jump;
    try {
        rc = decode(path, all_frames, out, err);
    } catch (const std::bad_alloc &) {
        movl_set_error(err, "%s: out of memory decoding the DICOM file", path);
        rc = MOVL_ERR_RUN;
    } catch (...) {
        movl_set_error(err, "%s: corrupt DICOM file (the decoder gave up)", path);
        rc = MOVL_ERR_INPUT;
    }
    abort_jump = nullptr;
    sigaction(SIGABRT, &previous, nullptr);
    if (rc != MOVL_OK)
        movl_dicom_free(out);
    return rc;
}

extern "C" void movl_dicom_free(movl_dicom_pixels *p)
{
    std::free(p->v);
    std::memset(p, 0, sizeof *p);
}
