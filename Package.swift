// swift-tools-version:6.1
import PackageDescription

/// Strict settings every target shares (STYLE.md §1).
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// A built-in source plugin: its own target under `Plugins/`, seeing only the plugin API, core and (for network
/// plugins) the HTTP runtime.
func plugin(_ name: String, http: Bool = true) -> Target {
    .target(name: name, dependencies: ["SDataCore", "SDataPluginAPI"] + (http ? ["SDataHTTP"] : []),
            path: "Plugins/" + name, swiftSettings: strict)
}

let package = Package(
    name: "sdata",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sdata", targets: ["sdata"]),
        .library(name: "SDataCore", targets: ["SDataCore"]),
        .library(name: "SDataPluginAPI", targets: ["SDataPluginAPI"]),
        .library(name: "SDataRunner", targets: ["SDataRunner"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Layer 0: values, records, schema, batches, diagnostics.
        .target(name: "SDataCore", dependencies: ["CSDataIntrinsics"], swiftSettings: strict),
        // libxml2 (Debian: libxml2-dev), used only through its streaming reader.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // Prefetch hints for the columnar engine's table lookups (a header only: nothing is linked).
        .systemLibrary(name: "CSDataIntrinsics"),
        // Layer 1: what a source plugin sees.
        .target(
            name: "SDataPluginAPI",
            dependencies: [
                "SDataCore", "CLibXML2",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ],
            swiftSettings: strict
        ),
        // Layer 1½: the HTTP runtime network plugins share (retries, rate limit, conditional GET, redaction).
        .target(
            name: "SDataHTTP",
            dependencies: [
                "SDataCore", "SDataPluginAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Layer 2: governance rules, the spec language, the catalog.
        .target(
            name: "SDataGovernance",
            dependencies: [
                "SDataCore", "CSDataIntrinsics",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SDataSpec",
            dependencies: [
                "SDataCore", "SDataPluginAPI", "SDataGovernance",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SDataCatalog",
            dependencies: [
                "SDataCore", "SDataGovernance", "SDataPluginAPI",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // Layer 3: the runner ties source → stage → govern → write → publish.
        .target(
            name: "SDataRunner",
            dependencies: [
                "SDataCore", "SDataPluginAPI", "SDataSpec", "SDataGovernance", "SDataCatalog",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ],
            swiftSettings: strict
        ),
        // Layer 4: the scheduler service and the HTTP server.
        .target(
            name: "SDataScheduler",
            dependencies: [
                "SDataRunner", "SDataSpec", "SDataCatalog",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SDataServer",
            dependencies: [
                "SDataCore", "SDataCatalog", "SDataPluginAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        // Built-in plugins: each its own target, seeing only the plugin API and core.
        plugin("FileSource", http: false),
        plugin("SeoulOpenAPI"),
        plugin("DataGoKr"),
        plugin("DataTaipei"),
        plugin("DataGovSG"),
        plugin("HTTPJSON"),
        plugin("XMLFeed"),
        plugin("RSSAtom"),
        plugin("Singer", http: false),
        // The one place that names concrete plugins.
        .target(
            name: "SDataBuiltins",
            dependencies: ["SDataPluginAPI", "FileSource", "SeoulOpenAPI", "DataGoKr", "DataTaipei", "DataGovSG",
                           "HTTPJSON", "XMLFeed", "RSSAtom", "Singer"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "sdata",
            dependencies: [
                "SDataCore", "SDataPluginAPI", "SDataSpec", "SDataCatalog", "SDataRunner", "SDataBuiltins",
                "SDataScheduler", "SDataServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SDataTests",
            dependencies: [
                "SDataCore", "CSDataIntrinsics", "SDataPluginAPI", "SDataSpec", "SDataGovernance", "SDataCatalog",
                "SDataRunner", "SDataBuiltins", "SDataHTTP", "SDataServer", "FileSource", "sdata",
                "SeoulOpenAPI", "DataGoKr", "DataTaipei", "DataGovSG", "HTTPJSON", "XMLFeed", "RSSAtom", "Singer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
    ]
)
