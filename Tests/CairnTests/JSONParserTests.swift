import Cairn
import Foundation
import Testing

@Suite("JSON parser")
struct JSONParserTests {
    @Test("parses every JSON type, escapes and numbers")
    func parsesDocuments() throws {
        let value = try JSONParser.parse(#"{"a": [1, -2.5, 3e2, true, false, null], "s": "q\"\\\/\n\u00e9\ud83d\ude00", "e": {}, "l": []}"#)
        #expect(value == .object([
            "a": .array([.int(1), .double(-2.5), .double(300), .bool(true), .bool(false), .null]),
            "s": .string("q\"\\/\n\u{e9}\u{1F600}"), "e": .object([:]), "l": .array([]),
        ]))
        #expect(try JSONParser.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSONParser.parse("92233720368547758070") == .double(92233720368547758070))
    }

    @Test("rejects malformed documents with the byte offset", arguments: [
        ("{\"a\" 1}", 6), ("[1, 2", 6), ("01", 1), ("\"abc", 5), ("[1,]", 4), ("tru", 1), ("{} x", 4), ("-", 2),
    ])
    func rejectsMalformed(text: String, offset: Int) {
        #expect {
            try JSONParser.parse(text)
        } throws: { error in
            (error as? JSONParser.SyntaxError)?.offset == offset - 1
        }
    }
}
