/// Names of numbered files (`000042.json`, `000017.log`): the number zero-padded to six digits,
/// then an extension, so that names sort like their numbers.
struct NumberedFileName {
    /// The extension with its dot (`.log`).
    let suffix: String

    func name(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits + suffix
    }

    /// The number in `fileName`, or nil when it is not such a name.
    func number(in fileName: String) -> Int? {
        guard fileName.hasSuffix(suffix), fileName.count > suffix.count else { return nil }
        let digits = fileName.dropLast(suffix.count)
        guard digits.allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
        return Int(digits)
    }
}
