// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Cairn",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Cairn", targets: ["Cairn"]),
        .executable(name: "cairn", targets: ["cairn"]),
        .executable(name: "cairn-bench", targets: ["cairn-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        // Small C helpers: CRC32C with the SSE4.2 instruction where the CPU has it, and prefetch.
        .target(name: "CCairnSupport"),
        // Distance kernels and exact top-k: no I/O.
        .target(
            name: "CairnVector",
            dependencies: ["CCairnSupport", .product(name: "HeapModule", package: "swift-collections")]
        ),
        // WAL, memtable, segments, manifest, recovery, compaction.
        .target(
            name: "CairnEngine",
            dependencies: [
                "CCairnSupport",
                "CairnVector",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The public database API users import.
        .target(
            name: "Cairn",
            dependencies: [
                "CCairnSupport",
                "CairnEngine",
                "CairnBackup",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The system's zstd (libzstd-dev), for compressing repository objects.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // Backup repositories: backends, keys and sealed objects, packs, backups and restores.
        .target(
            name: "CairnBackup",
            dependencies: [
                "CairnEngine",
                "CZstd",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "cairn",
            dependencies: [
                "Cairn",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "cairn-bench",
            dependencies: [
                "Cairn",
                "CairnTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "CairnTestSupport", dependencies: ["Cairn", "CairnEngine"]),
        .testTarget(name: "CairnVectorTests", dependencies: ["CairnVector", "CairnTestSupport"]),
        .testTarget(name: "CairnEngineTests", dependencies: ["CairnEngine", "CairnTestSupport"]),
        .testTarget(name: "CairnTests", dependencies: ["Cairn", "CairnTestSupport"]),
        .testTarget(name: "CairnBackupTests", dependencies: ["CairnBackup", "CairnTestSupport"]),
        .testTarget(name: "CairnCLITests", dependencies: ["cairn", "Cairn", "CairnTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
