// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mims",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mims-ingest", targets: ["mims-ingest"]),
        .executable(name: "mims-split", targets: ["mims-split"]),
        .executable(name: "mims-train", targets: ["mims-train"]),
        .library(name: "MIMSShards", targets: ["MIMSShards"]),
        .library(name: "MIMSImage", targets: ["MIMSImage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // System libraries (Debian -dev packages; `make deps` installs them).
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4",
                       providers: [.apt(["libtiff-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate",
                       providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "COpenJPEG", pkgConfig: "libopenjp2",
                       providers: [.apt(["libopenjp2-7-dev"])]),
        // Heyex XML exports go through a real XML parser (no entities, no network; docs/OCT.md).
        .systemLibrary(name: "CXML2", pkgConfig: "libxml-2.0",
                       providers: [.apt(["libxml2-dev"])]),
        // librsvg and cairo render the report's SVG charts to PNG for print (real fonts, any resolution).
        .systemLibrary(name: "CRSVG", pkgConfig: "librsvg-2.0",
                       providers: [.apt(["librsvg2-dev"])]),
        .target(name: "CSVGRaster", dependencies: ["CRSVG"]),
        // setjmp/longjmp and varargs error handlers stay inside C: Swift sees error codes and messages.
        .target(name: "CImageCodecs", dependencies: ["CJPEG", "CPNG", "CTIFF", "CDeflate", "COpenJPEG"]),
        // GDCM (Debian's libgdcm-dev) behind a C interface: DICOM parsing and its codecs (JPEG,
        // JPEG-LS via CharLS, JPEG 2000 via OpenJPEG, RLE); C++ exceptions stay inside.
        .target(name: "CDICOM", linkerSettings: [.linkedLibrary("gdcmMSFF"), .linkedLibrary("gdcmDICT"), .linkedLibrary("gdcmDSED"), .linkedLibrary("gdcmCommon")]),

        .target(name: "MIMSCore", dependencies: ["CKernels"], exclude: ["README.md"]),
        .target(name: "MIMSBLAS", dependencies: ["CBLAS"], exclude: ["README.md"]),
        .target(name: "MIMSShards", dependencies: ["CHDF5", "CDeflate", "CKernels", "MIMSCore"], exclude: ["README.md"]),
        .target(name: "MIMSImage", dependencies: ["CImageCodecs", "MIMSCore"], exclude: ["README.md"]),
        // Vectorized hot loops (AVX-512 / AVX2 chosen at run time) for the OCT readers.
        .target(name: "CKernels"),
        .target(name: "MIMSOCT", dependencies: ["MIMSCore", "MIMSImage", "CKernels", "CXML2", "CDICOM"], exclude: ["README.md"]),
        .target(name: "MIMSConfig", dependencies: ["Yams"], exclude: ["README.md"]),
        .target(name: "MIMSIngest", dependencies: ["MIMSCore", "MIMSConfig", "MIMSShards", "MIMSImage", "MIMSOCT", "MIMSSplit", "Yams"], exclude: ["README.md"]),
        // oneDNN (Debian's libdnnl-dev, OpenMP threads) behind a small C bridge: the tensor engine.
        .target(name: "CDNNL", linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]),
        .target(name: "MIMSTensor", dependencies: ["CDNNL", "MIMSBLAS", "MIMSCore"], exclude: ["README.md"]),
        .target(name: "MIMSModels", dependencies: ["MIMSTensor", "MIMSCore"], exclude: ["README.md"]),
        .target(name: "MIMSPlot", dependencies: ["CSVGRaster", "MIMSImage"], exclude: ["README.md"]),
        .target(name: "MIMSTrain", dependencies: ["MIMSPlot", "MIMSModels", "MIMSTensor", "MIMSShards", "MIMSConfig", "MIMSImage", "MIMSSplit", "MIMSCore"], exclude: ["README.md"]),
        // Split policies and reports; below MIMSIngest (which maps its records to SplitRecords), never above it.
        .target(name: "MIMSSplit", dependencies: ["MIMSCore", "MIMSShards", "MIMSConfig"], exclude: ["README.md"]),
        .target(name: "MIMSCommandSupport", dependencies: [
            "MIMSBLAS", "MIMSCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: ["README.md"]),

        .executableTarget(name: "mims-ingest", dependencies: [
            "MIMSCommandSupport", "MIMSShards", "MIMSImage", "MIMSIngest", "MIMSOCT", "MIMSCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "mims-split", dependencies: [
            "MIMSCommandSupport", "MIMSShards", "MIMSCore", "MIMSSplit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "mims-train", dependencies: [
            "MIMSCommandSupport", "MIMSBLAS", "MIMSShards", "MIMSCore", "MIMSTensor", "MIMSModels", "MIMSTrain", "MIMSIngest",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "mims-bench", dependencies: [
            "MIMSCommandSupport", "MIMSBLAS", "MIMSImage", "MIMSOCT", "MIMSIngest", "MIMSCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MIMSIngest and MIMSOCT only for the fixtures that unit and end-to-end tests share.
        .target(name: "MIMSTestSupport", dependencies: ["MIMSCore", "MIMSTensor", "MIMSImage", "MIMSOCT", "MIMSIngest", "MIMSShards"], path: "Tests/MIMSTestSupport"),
        .testTarget(name: "MIMSCoreTests", dependencies: ["MIMSCore", "MIMSTestSupport"]),
        .testTarget(name: "MIMSConfigTests", dependencies: ["MIMSConfig"]),
        .testTarget(name: "MIMSBLASTests", dependencies: ["MIMSBLAS"]),
        .testTarget(name: "MIMSShardsTests", dependencies: ["MIMSShards", "CKernels", "MIMSTestSupport"]),
        .testTarget(name: "MIMSImageTests", dependencies: ["MIMSImage", "MIMSTestSupport"]),
        // Test-only: DICOM objects written and compressed by GDCM itself.
        .target(name: "CDICOMTestWriter", path: "Tests/CDICOMTestWriter",
                linkerSettings: [.linkedLibrary("gdcmMSFF"), .linkedLibrary("gdcmDICT"), .linkedLibrary("gdcmDSED"), .linkedLibrary("gdcmCommon")]),
        .testTarget(name: "MIMSOCTTests", dependencies: ["MIMSOCT", "MIMSImage", "MIMSShards", "MIMSTestSupport", "CDICOMTestWriter"]),
        .testTarget(name: "MIMSTensorTests", dependencies: ["MIMSTensor", "MIMSTestSupport"]),
        .testTarget(name: "MIMSModelsTests", dependencies: ["MIMSModels", "MIMSTensor", "MIMSTestSupport"]),
        .testTarget(name: "MIMSPlotTests", dependencies: ["MIMSPlot", "MIMSImage", "MIMSTestSupport"]),
        .testTarget(name: "MIMSTrainTests", dependencies: ["MIMSTrain", "MIMSModels", "MIMSTensor", "MIMSIngest", "MIMSShards", "MIMSImage", "MIMSCore", "MIMSTestSupport"]),
        .testTarget(name: "MIMSSplitTests", dependencies: ["MIMSSplit", "MIMSIngest", "MIMSShards", "MIMSImage", "MIMSCore", "MIMSTestSupport"]),
        .testTarget(name: "MIMSIngestTests", dependencies: ["MIMSIngest", "MIMSConfig", "MIMSShards", "MIMSImage", "MIMSOCT", "MIMSSplit", "MIMSCore", "MIMSTestSupport"]),
        // The commands as a user runs them: these tests start the built mims-* binaries.
        .testTarget(name: "EndToEndTests", dependencies: [
            "MIMSTrain", "MIMSModels", "MIMSTensor", "MIMSBLAS", "MIMSIngest", "MIMSShards", "MIMSImage", "MIMSOCT", "MIMSSplit", "MIMSCore", "MIMSTestSupport",
        ]),
    ]
)
