import Foundation

/// Parses filter expressions and types their values against a collection's schema.
///
/// ```
/// filter     := or
/// or         := and ("or" and)*
/// and        := unary ("and" unary)*
/// unary      := "not" unary | "(" filter ")" | comparison
/// comparison := property op literal | property "in" "[" literal ("," literal)* "]"
/// op         := "=" | "!=" | "<" | "<=" | ">" | ">="
/// literal    := "string" | number | true | false
/// ```
/// Keywords are case-insensitive. Dates and UUIDs are written as strings. Errors carry the
/// 1-based column where the problem starts. Expressions are at most `maximumLength` bytes and
/// nest at most `maximumDepth` parentheses or `not`s deep, so no input can exhaust the stack.
struct FilterParser {
    static let maximumLength = 65_536
    static let maximumDepth = 64

    enum Token: Equatable {
        case identifier(String)
        case string(String)
        case number(String)
        case symbol(String)
        case end
    }

    let text: String
    let schema: CollectionSchema
    private var tokens: [(token: Token, column: Int)] = []
    private var position = 0
    private var depth = 0

    init(text: String, schema: CollectionSchema) {
        self.text = text
        self.schema = schema
    }

    mutating func parse() throws -> Filter {
        guard text.utf8.count <= FilterParser.maximumLength else {
            throw CairnError.invalidFilter(message: "the filter is \(text.utf8.count) bytes long; at most \(FilterParser.maximumLength) are allowed",
                                           position: FilterParser.maximumLength + 1)
        }
        tokens = try FilterParser.tokenize(text)
        let filter = try parseOr()
        guard case .end = current.token else { throw error("unexpected \(describe(current.token)) after the filter") }
        return filter
    }

    private var current: (token: Token, column: Int) { tokens[position] }

    private func error(_ message: String, at column: Int? = nil) -> CairnError {
        .invalidFilter(message: message, position: column ?? current.column)
    }

    private func isKeyword(_ word: String) -> Bool {
        if case let .identifier(name) = current.token { return name.lowercased() == word }
        return false
    }

    private mutating func parseOr() throws -> Filter {
        var terms = [try parseAnd()]
        while isKeyword("or") {
            position += 1
            terms.append(try parseAnd())
        }
        return terms.count == 1 ? terms[0] : .or(terms)
    }

    private mutating func parseAnd() throws -> Filter {
        var terms = [try parseUnary()]
        while isKeyword("and") {
            position += 1
            terms.append(try parseUnary())
        }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    private mutating func parseUnary() throws -> Filter {
        let isNot = isKeyword("not")
        guard isNot || current.token == .symbol("(") else { return try parseComparison() }
        depth += 1
        defer { depth -= 1 }
        guard depth <= FilterParser.maximumDepth else {
            throw error("the filter nests deeper than \(FilterParser.maximumDepth) levels of parentheses and 'not'")
        }
        position += 1
        if isNot { return .not(try parseUnary()) }
        let inner = try parseOr()
        guard current.token == .symbol(")") else { throw error("expected ')' but found \(describe(current.token))") }
        position += 1
        return inner
    }

    private mutating func parseComparison() throws -> Filter {
        guard case let .identifier(name) = current.token else {
            throw error("expected a property name but found \(describe(current.token))")
        }
        let nameColumn = current.column
        guard let definition = schema.property(named: name) else {
            let known = schema.properties.map(\.name).joined(separator: ", ")
            throw error("unknown property '\(name)' (properties: \(known.isEmpty ? "none" : known))", at: nameColumn)
        }
        guard definition.indexed else { throw error("property '\(name)' is not indexed, so it cannot be filtered on", at: nameColumn) }
        position += 1
        if isKeyword("in") {
            position += 1
            guard current.token == .symbol("[") else { throw error("expected '[' after 'in'") }
            position += 1
            var values: [PropertyValue] = []
            while true {
                values.append(try parseLiteral(for: definition))
                if current.token == .symbol(",") { position += 1; continue }
                guard current.token == .symbol("]") else { throw error("expected ',' or ']' but found \(describe(current.token))") }
                position += 1
                break
            }
            return .isIn(name, values)
        }
        guard case let .symbol(symbol) = current.token, let op = ComparisonOperator(rawValue: symbol) else {
            throw error("expected a comparison (=, !=, <, <=, >, >=, in) but found \(describe(current.token))")
        }
        position += 1
        return .compare(name, op, try parseLiteral(for: definition))
    }

    private mutating func parseLiteral(for definition: PropertyDefinition) throws -> PropertyValue {
        let column = current.column
        let json: JSONValue
        switch current.token {
        case let .string(value): json = .string(value)
        case let .number(text):
            if let integer = Int64(text) { json = .int(integer) }
            else if let number = Double(text) { json = .double(number) }
            else { throw error("'\(text)' is not a number") }
        case let .identifier(word) where ["true", "false"].contains(word.lowercased()):
            json = .bool(word.lowercased() == "true")
        default:
            throw error("expected a value but found \(describe(current.token))")
        }
        position += 1
        let scalar = PropertyDefinition(name: definition.name, type: PropertyType(definition.type.scalar))
        do { return try scalar.value(from: json) } catch let failure as CairnError {
            throw error("\(failure)", at: column)
        }
    }

    private func describe(_ token: Token) -> String {
        switch token {
        case let .identifier(name): return "'\(name)'"
        case let .string(value): return "\"\(value)\""
        case let .number(text): return text
        case let .symbol(symbol): return "'\(symbol)'"
        case .end: return "the end of the filter"
        }
    }

    static func tokenize(_ text: String) throws -> [(token: Token, column: Int)] {
        let characters = Array(text)
        var tokens: [(Token, Int)] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let column = index + 1
            if character.isWhitespace { index += 1; continue }
            if character.isLetter || character == "_" {
                var end = index
                while end < characters.count && (characters[end].isLetter || characters[end].isNumber || characters[end] == "_" || characters[end] == "-") { end += 1 }
                tokens.append((.identifier(String(characters[index..<end])), column))
                index = end
            } else if character.isNumber || ((character == "-" || character == "+" || character == ".") && index + 1 < characters.count && characters[index + 1].isNumber) {
                var end = index + 1
                while end < characters.count && (characters[end].isNumber || ".eE".contains(characters[end])
                    || (("+-").contains(characters[end]) && "eE".contains(characters[end - 1]))) { end += 1 }
                tokens.append((.number(String(characters[index..<end])), column))
                index = end
            } else if character == "\"" || character == "'" {
                var value = ""
                var end = index + 1
                var closed = false
                while end < characters.count {
                    if characters[end] == "\\" && end + 1 < characters.count {
                        value.append(characters[end + 1])
                        end += 2
                    } else if characters[end] == character {
                        closed = true
                        end += 1
                        break
                    } else {
                        value.append(characters[end])
                        end += 1
                    }
                }
                guard closed else { throw CairnError.invalidFilter(message: "unterminated string", position: column) }
                tokens.append((.string(value), column))
                index = end
            } else if ["!=", "<=", ">="].contains(String(characters[index..<min(index + 2, characters.count)])) {
                tokens.append((.symbol(String(characters[index..<index + 2])), column))
                index += 2
            } else if "=<>()[],".contains(character) {
                tokens.append((.symbol(String(character)), column))
                index += 1
            } else {
                throw CairnError.invalidFilter(message: "unexpected character '\(character)'", position: column)
            }
        }
        tokens.append((.end, characters.count + 1))
        return tokens
    }
}
