// GDCM behind a C interface. GDCM headers include one another by quoted name, so naming the
// versioned folder here is enough and the target needs no include flags.
#include "mims_dicom.h"

#include <gdcm-3.0/gdcmImage.h>
#include <gdcm-3.0/gdcmReader.h>
#include <gdcm-3.0/gdcmSequenceOfItems.h>
#include <gdcm-3.0/gdcmStringFilter.h>
#include <gdcm-3.0/gdcmTrace.h>

#include <cstring>
#include <istream>
#include <mutex>
#include <streambuf>
#include <string>
#include <vector>

namespace {

// Reads the caller's bytes in place: an istringstream would copy the whole file once more.
class MemoryBuffer : public std::streambuf {
public:
    MemoryBuffer(const char *begin, size_t count) {
        char *b = const_cast<char *>(begin);
        setg(b, b, b + count);
    }

protected:
    pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override {
        off_type base = dir == std::ios_base::beg ? 0 : dir == std::ios_base::cur ? gptr() - eback() : egptr() - eback();
        return seekpos(pos_type(base + off), std::ios_base::in);
    }
    pos_type seekpos(pos_type pos, std::ios_base::openmode) override {
        off_type p = off_type(pos);
        if (p < 0 || p > egptr() - eback()) return pos_type(off_type(-1));
        setg(eback(), eback() + p, egptr());
        return pos;
    }
};

void say(char *message, size_t size, const std::string &text) {
    if (message == nullptr || size == 0) return;
    size_t n = text.size() < size - 1 ? text.size() : size - 1;
    std::memcpy(message, text.data(), n);
    message[n] = 0;
}

// GDCM writes warnings and errors to std::cerr, which would end up in a user's terminal or
// between JSON lines; the reader reports its own typed errors instead.
void silenceGDCM() {
    static std::once_flag once;
    std::call_once(once, [] {
        gdcm::Trace::SetDebug(false);
        gdcm::Trace::SetWarning(false);
        gdcm::Trace::SetError(false);
    });
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.pop_back();
    size_t start = 0;
    while (start < text.size() && text[start] == ' ') start++;
    return text.substr(start);
}

}  // namespace

struct mims_dicom {
    MemoryBuffer buffer;
    std::istream stream;
    gdcm::Reader reader;
    bool hasImage = false;

    mims_dicom(const void *bytes, size_t count) : buffer(static_cast<const char *>(bytes), count), stream(&buffer) {}

    // The element `path` names, or null; `keep` holds sequences GDCM builds on demand alive.
    const gdcm::DataElement *find(const uint32_t *path, size_t count, std::vector<gdcm::SmartPointer<gdcm::SequenceOfItems>> &keep) const {
        if (count == 0 || count % 2 == 0) return nullptr;
        const gdcm::DataSet *set = &reader.GetFile().GetDataSet();
        for (size_t i = 0;; i += 2) {
            gdcm::Tag tag(uint16_t(path[i] >> 16), uint16_t(path[i] & 0xFFFF));
            if (!set->FindDataElement(tag)) return nullptr;
            const gdcm::DataElement &element = set->GetDataElement(tag);
            if (i + 1 == count) return &element;
            gdcm::SmartPointer<gdcm::SequenceOfItems> items = element.GetValueAsSQ();
            if (!items || path[i + 1] >= items->GetNumberOfItems()) return nullptr;
            keep.push_back(items);
            set = &items->GetItem(path[i + 1] + 1).GetNestedDataSet();
        }
    }
};

extern "C" mims_dicom *mims_dicom_open(const void *bytes, size_t count, int header_only, char *message, size_t message_size) {
    silenceGDCM();
    mims_dicom *object = nullptr;
    try {
        object = new mims_dicom(bytes, count);
        object->reader.SetStream(object->stream);
        bool ok = header_only ? object->reader.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010)) : object->reader.Read();
        if (!ok) {
            say(message, message_size, "GDCM could not parse the data set");
            delete object;
            return nullptr;
        }
        object->hasImage = !header_only;
        return object;
    } catch (const std::exception &error) {
        say(message, message_size, std::string("GDCM failed: ") + error.what());
    } catch (...) {
        say(message, message_size, "GDCM failed");
    }
    delete object;
    return nullptr;
}

extern "C" void mims_dicom_free(mims_dicom *object) { delete object; }

extern "C" long mims_dicom_value(const mims_dicom *object, const uint32_t *path, size_t path_count, char *out, size_t out_size) {
    try {
        std::vector<gdcm::SmartPointer<gdcm::SequenceOfItems>> keep;
        const gdcm::DataElement *element = object->find(path, path_count, keep);
        if (element == nullptr) return -1;
        std::string text;
        if (!element->IsEmpty()) {
            gdcm::StringFilter filter;
            filter.SetFile(object->reader.GetFile());
            text = trimmed(filter.ToString(*element));
        }
        if (out != nullptr && out_size > 0) say(out, out_size, text);
        return long(text.size());
    } catch (...) {
        return -1;
    }
}

extern "C" long mims_dicom_item_count(const mims_dicom *object, const uint32_t *path, size_t path_count) {
    try {
        std::vector<gdcm::SmartPointer<gdcm::SequenceOfItems>> keep;
        const gdcm::DataElement *element = object->find(path, path_count, keep);
        if (element == nullptr) return 0;
        gdcm::SmartPointer<gdcm::SequenceOfItems> items = element->GetValueAsSQ();
        return items ? long(items->GetNumberOfItems()) : 0;
    } catch (...) {
        return 0;
    }
}

extern "C" int mims_dicom_decode(const mims_dicom *object, const mims_dicom_image_layout *layout, void *out, size_t out_size,
                                 char *message, size_t message_size) {
    if (!object->hasImage) {
        say(message, message_size, "the object was opened without its image");
        return -1;
    }
    try {
        const gdcm::File &file = object->reader.GetFile();
        const gdcm::DataSet &set = file.GetDataSet();
        const gdcm::Tag pixelTag(0x7fe0, 0x0010);
        if (!set.FindDataElement(pixelTag)) {
            say(message, message_size, "no pixel data");
            return -1;
        }
        gdcm::Image image;
        image.SetNumberOfDimensions(3);
        image.SetDimension(0, layout->columns);
        image.SetDimension(1, layout->rows);
        image.SetDimension(2, layout->frames);
        image.SetPixelFormat(gdcm::PixelFormat(1, layout->bits_allocated, layout->bits_stored, uint16_t(layout->bits_stored - 1), 0));
        image.SetPhotometricInterpretation(layout->monochrome1 ? gdcm::PhotometricInterpretation::MONOCHROME1 : gdcm::PhotometricInterpretation::MONOCHROME2);
        image.SetTransferSyntax(file.GetHeader().GetDataSetTransferSyntax());
        image.SetDataElement(set.GetDataElement(pixelTag));
        if (image.GetBufferLength() != out_size) {
            say(message, message_size, "decoded size " + std::to_string(image.GetBufferLength()) + " differs from the " + std::to_string(out_size) + " bytes expected");
            return -1;
        }
        if (!image.GetBuffer(static_cast<char *>(out))) {
            const char *syntax = image.GetTransferSyntax().GetString();
            say(message, message_size, std::string("GDCM's codec for ") + (syntax ? syntax : "the transfer syntax") + " could not decode it");
            return -1;
        }
        return 0;
    } catch (const std::exception &error) {
        say(message, message_size, std::string("GDCM failed while decoding: ") + error.what());
    } catch (...) {
        say(message, message_size, "GDCM failed while decoding");
    }
    return -1;
}
