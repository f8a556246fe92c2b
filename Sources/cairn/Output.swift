import Cairn
import Foundation

/// Printing for people and for scripts.
enum Output {
    /// Prints a JSON value, pretty-printed with sorted keys.
    static func json(_ value: JSONValue) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Prints any encodable value as JSON.
    static func json<T: Encodable>(encodable value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Reports a failure on standard error: `error: …` for people, or with --json a JSON object
    /// `{"error": {"kind": …, "message": …}}` a script can parse.
    static func failure(_ message: String, kind: String, json: Bool) {
        guard json else { return error(message) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let value = JSONValue.object(["error": .object(["kind": .string(kind), "message": .string(message)])])
        let data = (try? encoder.encode(value)) ?? Data()
        FileHandle.standardError.write(data + Data("\n".utf8))
    }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data(message.utf8))
    }

    /// Whether standard error is a terminal (progress bars go there).
    static var stderrIsTerminal: Bool { isatty(2) != 0 }

    /// A table with aligned columns.
    static func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in
            ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    /// A byte count for people: 512 B, 3.2 MiB.
    static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    /// Text from the database shown safely on a terminal: control characters (newlines,
    /// escape sequences) are shown as `\u{…}`.
    static func printable(_ text: String) -> String {
        text.unicodeScalars.map { $0.properties.generalCategory == .control ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    }

    static func uuid(_ id: UUID) -> String { id.uuidString.lowercased() }

    /// A time for people, in UTC: 2026-11-25 14:30:05Z.
    static func date(milliseconds: Int64) -> String {
        let text = Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601)
        return text.replacingOccurrences(of: "T", with: " ")
    }
}
