import Foundation
import Testing
@testable import Tally

@Suite struct ReadInputFilesTests {
    @Test func patternsAreExpandedUnitedDeduplicatedAndSortedByPathBytes() throws {
        let folder = try TemporaryFolder()
        for name in ["logs/b.csv.zst", "logs/a.csv.zst", "logs/B.csv", "logs/é.csv", "logs/z.txt", "other/c.csv"] {
            try folder.write(name, bytes("x\n"))
        }
        try FileManager.default.createDirectory(atPath: folder.path + "/logs/dir.csv", withIntermediateDirectories: true)
        let files = try InputFiles.expand(["logs/*.csv*", folder.path + "/logs/a.*", "nothing/*.csv", "./other/../other/*.csv"],
                                          base: folder.path, currentDirectory: folder.path + "/logs")
        #expect(files.map(\.relativePath) == ["logs/B.csv", "logs/a.csv.zst", "logs/b.csv.zst", "logs/é.csv", "other/c.csv"])
        #expect(files.map(\.displayPath) == ["B.csv", "a.csv.zst", "b.csv.zst", "é.csv", folder.path + "/other/c.csv"])
        #expect(files.allSatisfy { $0.path.hasPrefix(folder.path + "/") && $0.size == 2 && $0.isZstd == $0.path.hasSuffix(".zst") })
    }

    @Test func relativePathsClimbOutOfTheBaseFolder() {
        #expect(PathText.relative("/w/data/logs/a.csv", to: "/w/pipelines") == "../data/logs/a.csv")
        #expect(PathText.relative("/w/p/a.csv", to: "/w/p") == "a.csv")
        #expect(PathText.normalize("/w//p/./x/../a.csv") == "/w/p/a.csv")
        #expect(PathText.display("/w/p/a.csv", currentDirectory: "/w") == "p/a.csv")
        #expect(PathText.display("/w/p/a.csv", currentDirectory: "/v") == "/w/p/a.csv")
        #expect(PathText.display("/w/p/a.csv", currentDirectory: "/") == "w/p/a.csv")
    }

    @Test func noMatchAtAllIsANoInputErrorNamingThePatterns() throws {
        let folder = try TemporaryFolder()
        let error = try #require(throws: TallyError.self) {
            _ = try InputFiles.expand(["/nonexistent/*.csv.zst", "/nonexistent/b/*.csv"], base: folder.path)
        }
        #expect(error.kind == .noInput && error.kind.exitCode == 66)
        #expect("\(error)" == "error: [read] no input file matched '/nonexistent/*.csv.zst', '/nonexistent/b/*.csv'")
    }

    @Test func braceListsExpandAsGlobExpandsThem() {
        #expect(InputFiles.braceAlternatives("logs/{a,b}.csv") == ["logs/a.csv", "logs/b.csv"])
        #expect(InputFiles.braceAlternatives("{x,y}/{1,2}") == ["x/1", "x/2", "y/1", "y/2"])
        #expect(InputFiles.braceAlternatives("{a,{b,c}d}") == ["a", "bd", "cd"])
        #expect(InputFiles.braceAlternatives("{a}/{,z}") == ["a/", "a/z"])
        #expect(InputFiles.braceAlternatives("{a}{b,c}") == ["ab", "ac"])
        #expect(InputFiles.braceAlternatives("plain/*.csv") == ["plain/*.csv"])
        #expect(InputFiles.braceAlternatives("open{a,b") == ["open{a,b"])
        #expect(InputFiles.braceAlternatives("x{}y") == ["x{}y"])
        #expect(InputFiles.braceAlternatives(#"\{a,b\}"#) == [#"\{a,b\}"#])
    }

    /// A pattern names a path as glob(3) would list it, whether or not the file exists: checked
    /// here against glob itself, on files made for the purpose.
    @Test func aPatternMatchesThePathsGlobWouldList() throws {
        let folder = try TemporaryFolder()
        let paths = ["logs/a.csv", "logs/b.partial", "logs/.hidden", "logs/sub/c.csv", "vocab.parquet", "x.csv"]
        for path in paths { try folder.write(path, [0x61]) }
        for pattern in ["logs/*", "logs/*.csv", "*", "{logs,x}*/*.csv", "logs/{a,b}.*", "*.csv", "logs/?.partial"] {
            let listed = Set(try InputFiles.expand([pattern], base: folder.path).map(\.path))
            for path in paths {
                let absolute = folder.path + "/" + path
                #expect(InputFiles.pattern(pattern, base: folder.path, matches: absolute) == listed.contains(absolute),
                        "\(pattern) and \(path)")
            }
        }
    }

    /// A path without wildcards names a file that must exist, each brace alternative too;
    /// patterns with wildcards may match nothing.
    @Test func pathsWithoutWildcardsMustNameFiles() throws {
        let folder = try TemporaryFolder()
        try folder.write("logs/a.csv", bytes("x\n"))
        try FileManager.default.createDirectory(atPath: folder.path + "/logs/dir.csv", withIntermediateDirectories: true)
        #expect(InputFiles.missingFiles("logs/a.csv", base: folder.path).isEmpty)
        #expect(InputFiles.missingFiles("logs/{a,b}.csv", base: folder.path) == ["logs/b.csv"])
        #expect(InputFiles.missingFiles(folder.path + "/logs/{a,dir}.csv", base: "/elsewhere") == [folder.path + "/logs/dir.csv"])
        #expect(InputFiles.missingFiles("logs/{a,b*}.csv", base: folder.path).isEmpty)
        #expect(InputFiles.missingFiles("nothing/*.csv", base: folder.path).isEmpty)
        #expect(InputFiles.missingFiles("logs/{a}.csv", base: folder.path).isEmpty)
        try folder.write("logs/b c{1}.csv", bytes("x\n"))
        #expect(InputFiles.missingFiles(#"logs/b\ c\{1\}.csv"#, base: folder.path).isEmpty)
        #expect(InputFiles.missingFiles(#"logs/\*.csv"#, base: folder.path) == [#"logs/\*.csv"#])
    }

    @Test func sizesAndKindsComeFromTheFiles() throws {
        let folder = try TemporaryFolder()
        let packed = zstdFrame(sampleCSV(rows: 20))
        try folder.write("a.csv.zst", packed)
        try folder.write("b.csv", packed)
        try folder.write("c.csv", [])
        let files = try InputFiles.expand(["*.zst", "*.csv"], base: folder.path)
        #expect(files.map(\.size) == [Int64(packed.count), Int64(packed.count), 0])
        #expect(files.map(\.isZstd) == [true, true, false])
    }
}
