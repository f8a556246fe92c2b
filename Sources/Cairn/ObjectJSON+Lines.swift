import Foundation
import Synchronization

extension ObjectJSON {
    /// Objects formatted per round, split between the cores.
    static let linesPerRound = 4096

    /// Writes every object of `export` as a JSONL line (see `appendLine`), in id order, through
    /// `write`, and returns how many. Three stages overlap: the caller's thread reads a round of
    /// objects while the previous round is formatted on every core and the one before is
    /// written on another thread, so memory holds about three rounds. The first error (of
    /// `write` or of reading) stops it.
    public static func writeLines(of export: PartitionExport, withMetadata: Bool = false,
                                  write: @escaping @Sendable ([UInt8]) throws -> Void) throws -> Int {
        let writer = DispatchQueue(label: "cairn.export.writer")
        let writing = DispatchSemaphore(value: 1)
        let failure = Mutex<Error?>(nil)
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var formatting: FormattedRound?
        /// Hands the round being formatted, when done, to the writer (after the one before it).
        func handOver() throws {
            guard let round = formatting else { return }
            round.group.wait()
            formatting = nil
            writing.wait()
            if let error = failure.withLock({ $0 }) {
                writing.signal()
                throw error
            }
            let buffers = round.parts.withLock { $0 }
            writer.async {
                defer { writing.signal() }
                do { for buffer in buffers { try write(buffer) } } catch { failure.withLock { $0 = $0 ?? error } }
            }
        }
        /// Starts formatting `objects` on every core.
        func format(_ objects: [StoredObject]) {
            let round = FormattedRound(workers: workers)
            let share = (objects.count + workers - 1) / workers
            for worker in 0..<workers {
                DispatchQueue.global().async(group: round.group) {
                    var buffer: [UInt8] = []
                    buffer.reserveCapacity(share * (64 + 12 * (objects.first?.vector.count ?? 0)))
                    for object in objects.dropFirst(worker * share).prefix(share) { appendLine(object, withMetadata: withMetadata, to: &buffer) }
                    round.parts.withLock { $0[worker] = buffer }
                }
            }
            formatting = round
        }
        var round: [StoredObject] = []
        round.reserveCapacity(linesPerRound)
        var count = 0
        do {
            try export.forEach { object in
                round.append(object)
                count += 1
                if round.count == linesPerRound {
                    try handOver()
                    format(round)
                    round.removeAll(keepingCapacity: true)
                }
            }
            try handOver()
            if !round.isEmpty { format(round) }
            try handOver()
        } catch {
            formatting?.group.wait()
            writer.sync {}
            throw error
        }
        writer.sync {}
        if let error = failure.withLock({ $0 }) { throw error }
        return count
    }

    /// Appends one JSONL line for `object` to `buffer`: `{"id":…,"properties":{…},"vector":[…]}`
    /// (keys sorted, as `importable(_:)` gives them) and, `withMetadata`, `createdAt` and
    /// `updatedAt`. Vector components are printed as the shortest decimal that reads back as
    /// the same 32-bit float, so an import gives back exactly the stored vector. Written
    /// directly as bytes: an export prints millions of these.
    public static func appendLine(_ object: StoredObject, withMetadata: Bool = false, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: #"{"#.utf8)
        if withMetadata {
            buffer.append(contentsOf: #""createdAt":"#.utf8)
            appendString(DateCoding.format(milliseconds: object.createdAtMilliseconds), to: &buffer)
            buffer.append(UInt8(ascii: ","))
        }
        buffer.append(contentsOf: #""id":""#.utf8)
        buffer.append(contentsOf: object.id.uuidString.lowercased().utf8)
        buffer.append(contentsOf: #"","properties":"#.utf8)
        appendValue(.object(object.properties.mapValues(\.json)), to: &buffer)
        if withMetadata {
            buffer.append(contentsOf: #","updatedAt":"#.utf8)
            appendString(DateCoding.format(milliseconds: object.updatedAtMilliseconds), to: &buffer)
        }
        buffer.append(contentsOf: #","vector":["#.utf8)
        for (index, component) in object.vector.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            buffer.append(contentsOf: component.description.utf8)
        }
        buffer.append(contentsOf: "]}\n".utf8)
    }

    /// Appends `value` as compact JSON, object keys sorted.
    static func appendValue(_ value: JSONValue, to buffer: inout [UInt8]) {
        switch value {
        case .null: buffer.append(contentsOf: "null".utf8)
        case let .bool(flag): buffer.append(contentsOf: (flag ? "true" : "false").utf8)
        case let .int(number): buffer.append(contentsOf: String(number).utf8)
        case let .double(number): buffer.append(contentsOf: (number.isFinite ? number.description : "null").utf8)
        case let .string(text): appendString(text, to: &buffer)
        case let .array(values):
            buffer.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                appendValue(element, to: &buffer)
            }
            buffer.append(UInt8(ascii: "]"))
        case let .object(fields):
            buffer.append(UInt8(ascii: "{"))
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                appendString(key, to: &buffer)
                buffer.append(UInt8(ascii: ":"))
                appendValue(fields[key]!, to: &buffer)
            }
            buffer.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `text` as a JSON string: quotes, backslashes and control characters escaped,
    /// everything else as UTF-8.
    static func appendString(_ text: String, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): buffer.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): buffer.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): buffer.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): buffer.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                let hex = String(byte, radix: 16)
                buffer.append(contentsOf: ("\\u00" + (hex.count == 1 ? "0" : "") + hex).utf8)
            default: buffer.append(byte)
            }
        }
        buffer.append(UInt8(ascii: "\""))
    }
}

/// One round of an export being formatted: a part per worker, done when `group` is.
private final class FormattedRound: Sendable {
    let group = DispatchGroup()
    let parts: Mutex<[[UInt8]]>

    init(workers: Int) { parts = Mutex([[UInt8]](repeating: [], count: workers)) }
}
