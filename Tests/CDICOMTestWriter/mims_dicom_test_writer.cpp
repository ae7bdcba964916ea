#include "mims_dicom_test_writer.h"

#include <gdcm-3.0/gdcmDicts.h>
#include <gdcm-3.0/gdcmGlobal.h>
#include <gdcm-3.0/gdcmImageChangeTransferSyntax.h>
#include <gdcm-3.0/gdcmImageWriter.h>
#include <gdcm-3.0/gdcmStringFilter.h>
#include <gdcm-3.0/gdcmTrace.h>

#include <cstdio>
#include <cstring>
#include <string>

static int fail(char *message, size_t size, const std::string &text) {
    if (message && size) {
        std::snprintf(message, size, "%s", text.c_str());
    }
    return -1;
}

extern "C" int mims_test_write_dicom(const char *path, const char *sop_class, const char *transfer_syntax,
                                     uint32_t columns, uint32_t rows, uint32_t frames,
                                     uint16_t bits_allocated, uint16_t bits_stored, const char *photometric,
                                     const void *pixels, size_t pixels_size, const double spacing[3],
                                     const char *const *attributes, size_t attribute_count,
                                     char *message, size_t message_size) {
    gdcm::Trace::SetWarning(false);
    try {
        gdcm::ImageWriter writer;
        gdcm::Image &image = writer.GetImage();
        image.SetNumberOfDimensions(3);
        image.SetDimension(0, columns);
        image.SetDimension(1, rows);
        image.SetDimension(2, frames);
        image.SetPixelFormat(gdcm::PixelFormat(1, bits_allocated, bits_stored, uint16_t(bits_stored - 1), 0));
        image.SetPhotometricInterpretation(gdcm::PhotometricInterpretation::GetPIType(photometric));
        for (unsigned i = 0; i < 3; i++) image.SetSpacing(i, spacing[i]);
        gdcm::TransferSyntax::TSType requested = gdcm::TransferSyntax::GetTSType(transfer_syntax);
        if (requested == gdcm::TransferSyntax::TS_END) return fail(message, message_size, std::string("unknown transfer syntax ") + transfer_syntax);
        bool implicit = requested == gdcm::TransferSyntax::ImplicitVRLittleEndian;
        image.SetTransferSyntax(implicit ? gdcm::TransferSyntax::ImplicitVRLittleEndian : gdcm::TransferSyntax::ExplicitVRLittleEndian);
        gdcm::DataElement pixelData(gdcm::Tag(0x7fe0, 0x0010));
        pixelData.SetVR(bits_allocated > 8 ? gdcm::VR::OW : gdcm::VR::OB);
        pixelData.SetByteValue(static_cast<const char *>(pixels), uint32_t(pixels_size));
        image.SetDataElement(pixelData);

        gdcm::DataSet &set = writer.GetFile().GetDataSet();
        gdcm::StringFilter filter;
        filter.SetFile(writer.GetFile());
        const gdcm::Dicts &dicts = gdcm::Global::GetInstance().GetDicts();
        auto put = [&](const gdcm::Tag &tag, const std::string &text) {
            gdcm::DataElement element(tag);
            element.SetVR(dicts.GetDictEntry(tag).GetVR());
            std::string value = filter.FromString(tag, text.data(), text.size());
            element.SetByteValue(value.data(), uint32_t(value.size()));
            set.Replace(element);
        };
        put(gdcm::Tag(0x0008, 0x0016), sop_class);
        for (size_t i = 0; i + 1 < attribute_count; i += 2) {
            unsigned group = 0, element = 0;
            if (std::sscanf(attributes[i], "%x,%x", &group, &element) != 2) return fail(message, message_size, std::string("bad tag ") + attributes[i]);
            put(gdcm::Tag(uint16_t(group), uint16_t(element)), attributes[i + 1]);
        }
        gdcm::MediaStorage storage = gdcm::MediaStorage::GetMSType(sop_class);
        writer.GetFile().GetHeader().SetDataSetTransferSyntax(image.GetTransferSyntax());

        if (requested != gdcm::TransferSyntax::ImplicitVRLittleEndian && requested != gdcm::TransferSyntax::ExplicitVRLittleEndian) {
            gdcm::ImageChangeTransferSyntax change;
            change.SetTransferSyntax(requested);
            change.SetInput(image);
            if (!change.Change()) return fail(message, message_size, std::string("GDCM could not encode as ") + transfer_syntax);
            writer.SetImage(change.GetOutput());
            writer.GetFile().GetHeader().SetDataSetTransferSyntax(requested);
        }
        (void)storage;
        writer.SetFileName(path);
        if (!writer.Write()) return fail(message, message_size, std::string("GDCM could not write ") + path);
        return 0;
    } catch (const std::exception &error) {
        return fail(message, message_size, std::string("GDCM failed: ") + error.what());
    }
}
