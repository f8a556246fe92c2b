import Foundation

/// Reads texmex `.fvecs` / `.ivecs` files: each row is an int32 dimension, then that many 4-byte values.
enum TexmexFile {
    static func read<T>(_ path: String, as: T.Type) throws -> (rows: Int, dimensions: Int, values: [T]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CairnBenchError("cannot read \(path)")
        }
        return try data.withUnsafeBytes { raw in
            guard raw.count >= 4 else { throw CairnBenchError("\(path) is empty") }
            let dimensions = Int(raw.loadUnaligned(as: Int32.self))
            let rowBytes = 4 + dimensions * 4
            guard dimensions > 0, raw.count % rowBytes == 0 else { throw CairnBenchError("\(path) is not a texmex file") }
            let rows = raw.count / rowBytes
            var values = [T]()
            values.reserveCapacity(rows * dimensions)
            for row in 0..<rows {
                for column in 0..<dimensions {
                    values.append(raw.loadUnaligned(fromByteOffset: row * rowBytes + 4 + column * 4, as: T.self))
                }
            }
            return (rows, dimensions, values)
        }
    }
}

struct CairnBenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
