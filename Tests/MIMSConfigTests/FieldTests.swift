import MIMSConfig
import Testing

/// Typed reads of a YAML document through `Field`, and the file, line and key its errors name.
struct FieldTests {
    static let text = """
        name: demo
        count: 12
        seed: 7
        ratio: 0.25
        scale: -1.5
        on: yes
        tags: [a, b]
        sizes: [1, 2, 3]
        weights: [0.5, 2]
        split:
          train: 0.7
          test: many
        map:
          x: one
          y: two
        """

    @Test func typedReadsGiveTheirValues() throws {
        let top = try Field.document(Self.text, file: "m.yaml")
        #expect(try top.required("name").string() == "demo")
        #expect(try top.required("count").integer() == 12)
        #expect(try top.required("seed").unsigned() == 7)
        #expect(try top.required("ratio").fraction() == 0.25)
        #expect(try top.required("scale").number() == -1.5)
        #expect(try top.required("on").bool())
        #expect(try top.required("tags").strings() == ["a", "b"])
        #expect(try top.required("name").strings() == ["demo"])  // one text value is a list of one
        #expect(try top.required("sizes").integers() == [1, 2, 3])
        #expect(try top.required("weights").numbers() == [0.5, 2])
        #expect(try top.required("map").pairs() == [KeyValue(key: "x", value: "one"), KeyValue(key: "y", value: "two")])
        #expect(try top.optional("absent") == nil)
        let train = try top.required("split").required("train")
        #expect(train.path == "split.train" && train.line == 11 && train.file == "m.yaml")
    }

    @Test func errorsNameFileLineAndKey() throws {
        let top = try Field.document(Self.text, file: "m.yaml")
        let split = try top.required("split")
        #expect(throws: ConfigError(file: "m.yaml", key: "split.test", line: 12, expected: "a number between 0 and 1")) {
            try split.required("test").fraction()
        }
        #expect(throws: ConfigError(file: "m.yaml", key: "count", line: 2, expected: "a number between 0 and 1")) {
            try top.required("count").fraction()
        }
        #expect(throws: ConfigError(file: "m.yaml", key: "name", line: 1, expected: "a whole number")) { try top.required("name").integer() }
        #expect(throws: ConfigError(file: "m.yaml", key: "scale", line: 5, expected: "a non-negative whole number")) { try top.required("scale").unsigned() }
        #expect(throws: ConfigError(file: "m.yaml", key: "name", line: 1, expected: "true or false")) { try top.required("name").bool() }
        #expect(throws: ConfigError(file: "m.yaml", key: "split.val", line: 11, expected: "missing; expected a value")) { try split.required("val") }
        #expect(throws: ConfigError(file: "m.yaml", key: "split.test", line: 12, expected: "not a known key here; known keys: train, val")) {
            try split.allow(["train", "val"])
        }
        #expect(throws: ConfigError(file: "m.yaml", key: "sizes", line: 8, expected: "a mapping")) { try top.required("sizes").required("x") }
    }

    @Test func errorTextsShowFileLineAndKey() throws {
        #expect("\(ConfigError(file: "m.yaml", key: "split.test", line: 15, expected: "a number"))" == "m.yaml:15: 'split.test': a number")
        #expect("\(ConfigError(file: "m.yaml", key: "split", line: 0, expected: "a mapping"))" == "m.yaml: 'split': a mapping")
        #expect("\(ConfigError(file: "m.yaml", key: "", line: 1, expected: "a mapping of keys"))" == "m.yaml:1: a mapping of keys")
    }

    @Test func documentsThatAreNotMappingsAreRefused() {
        #expect(throws: ConfigError(file: "l.yaml", key: "", line: 1, expected: "a mapping of keys")) { try Field.document("- a\n- b\n", file: "l.yaml") }
        #expect { try Field.document("a: [1, 2\n", file: "bad.yaml") } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.file == "bad.yaml" && error.key == "" && error.line > 0 && error.expected.hasPrefix("valid YAML")
        }
    }
}
