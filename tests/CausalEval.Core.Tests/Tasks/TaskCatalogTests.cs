using System.Text.Json.Nodes;
using CausalEval.Core.Tasks;
using CausalEval.Core.Tests.Support;

namespace CausalEval.Core.Tests.Tasks;

public sealed class TaskCatalogTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"causaleval-core-tests-{Guid.NewGuid():N}");

    public TaskCatalogTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string[] Committed(string taskId) => File.ReadAllLines(Repo.TestSplitPath(taskId));

    private static string Edit(string line, Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(line)!.AsObject();
        edit(node);
        return node.ToJsonString();
    }

    /// <summary>Writes two good lines and <paramref name="third"/>, reads the file, and returns the error.</summary>
    private InputException BadThirdLine(string third, string taskId = "explore-exploit")
    {
        var lines = Committed(taskId);
        var path = Path.Combine(_directory, "split.jsonl");
        File.WriteAllLines(path, [lines[0], lines[1], third]);

        var ex = Assert.Throws<InputException>(() => TaskCatalog.ReadSplitFile(path).ToList());

        Assert.Equal($"{path}:3", ex.Origin);
        Assert.Contains($"{path}:3", ex.Message, StringComparison.Ordinal);
        return ex;
    }

    [Fact]
    public void AnUnknownTarget_NamesTheTargetField()
    {
        var ex = BadThirdLine(Edit(Committed("explore-exploit")[2], o => o["target"] = "Q"));

        Assert.Equal("target", ex.Field);
        Assert.Contains("'Q'", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void BadJson_GivesTheColumn()
    {
        var ex = BadThirdLine("""{"id": "test-0002", "seed": """);

        Assert.StartsWith("line 1, column ", ex.Field, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingWorld_NamesTheWorldField()
    {
        var ex = BadThirdLine(Edit(Committed("explore-exploit")[2], o => o.Remove("world")));

        Assert.Equal("world", ex.Field);
        Assert.Contains("missing", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ASubsetNamingAHiddenVariable_NamesTheSubsetEntry()
    {
        var ex = BadThirdLine(Edit(Committed("passive-exploit-observational")[2], o => o["subset"] = new JsonArray("A", "U")),
            "passive-exploit-observational");

        Assert.Equal("subset[1]", ex.Field);
        Assert.Contains("'U'", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ADuplicateId_NamesTheIdField()
    {
        var lines = Committed("explore-exploit");

        var ex = BadThirdLine(Edit(lines[2], o => o["id"] = (string)JsonNode.Parse(lines[0])!["id"]!));

        Assert.Equal("id", ex.Field);
        Assert.Contains("duplicate", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownField_NamesIt()
    {
        var ex = BadThirdLine(Edit(Committed("explore-exploit")[2], o => o["tagret"] = "B"));

        Assert.Equal("tagret", ex.Field);
    }

    [Fact]
    public void ABadHeldOutLink_NamesIt()
    {
        var ex = BadThirdLine(Edit(Committed("explore-exploit")[2], o => o["heldout_link"] = "DB"));

        Assert.Equal("heldout_link", ex.Field);
    }

    [Fact]
    public void GoodLinesBeforeTheBadOne_AreStillStreamed()
    {
        var lines = Committed("explore-exploit");
        var path = Path.Combine(_directory, "split.jsonl");
        File.WriteAllLines(path, [lines[0], "", lines[1], "{oops"]);
        var seen = new List<string>();

        var ex = Assert.Throws<InputException>(() =>
        {
            foreach (var episode in TaskCatalog.ReadSplitFile(path))
            {
                seen.Add(episode.Id);
            }
        });

        Assert.Equal(["test-0000", "test-0001"], seen); // the blank line is skipped, and counted
        Assert.Equal($"{path}:4", ex.Origin);
    }

    [Fact]
    public void Limit_StopsBeforeReadingFurther()
    {
        var lines = Committed("explore-exploit");
        var path = Path.Combine(_directory, "split.jsonl");
        File.WriteAllLines(path, [lines[0], lines[1], "{not even json"]);

        var episodes = TaskCatalog.ReadSplitFile(path, limit: 2).ToList();

        Assert.Equal(2, episodes.Count);
    }

    [Fact]
    public void LoadSplit_GivenIds_ParsesOnlyTheirLinesAndGivesTheSameEpisodesInFileOrder()
    {
        var all = Repo.Catalog.LoadSplit("explore-exploit", TaskDefinition.TestSplit).ToList();
        var ids = new HashSet<string>([all[7].Id, all[2].Id, all[150].Id, "test-9999"], StringComparer.Ordinal);

        var some = Repo.Catalog.LoadSplit("explore-exploit", TaskDefinition.TestSplit, ids).ToList();

        Assert.Equal([all[2].Id, all[7].Id, all[150].Id], some.Select(e => e.Id));
        Assert.Equal(all[7].Seed, some[1].Seed);
        Assert.Equal(all[7].Solution.Actions.Select(a => a.Expected), some[1].Solution.Actions.Select(a => a.Expected));
    }

    [Theory]
    [InlineData("""{"id":"test-0003","seed":1}""", "test-0003")]
    [InlineData("""{"split":"test","world":{"id":"inner"},"id":"test-0004"}""", "test-0004")]
    [InlineData("""{"seed":1}""", null)]
    [InlineData("""{"id":3}""", null)]
    [InlineData("""{oops""", null)]
    public void LineId_ReadsTheTopLevelIdOrNothing(string line, string? id) => Assert.Equal(id, TaskCatalog.LineId(line));

    [Fact]
    public void AMissingSplitFile_IsAnInputError()
    {
        var path = Path.Combine(_directory, "absent.jsonl");

        var ex = Assert.Throws<InputException>(() => TaskCatalog.ReadSplitFile(path).ToList());

        Assert.Equal(path, ex.Origin);
    }

    [Fact]
    public void AnUnknownTask_IsAnInputErrorListingTheKnownOnes()
    {
        var ex = Assert.Throws<InputException>(() => Repo.Catalog.Load("no-such-task"));

        Assert.Equal("--task", ex.Origin);
        Assert.Contains("explore-exploit", ex.Problem, StringComparison.Ordinal);
        Assert.Throws<InputException>(() => Repo.Catalog.Load("../datasets/explore-exploit"));
    }

    [Fact]
    public void ATaskWhoseIdDoesNotMatchItsFolder_IsRejected()
    {
        var folder = Path.Combine(_directory, "renamed");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(Repo.DatasetsDirectory, "explore-exploit", "task.json"), Path.Combine(folder, "task.json"));

        var ex = Assert.Throws<InputException>(() => new TaskCatalog(_directory).Load("renamed"));

        Assert.Equal("id", ex.Field);
    }

    [Fact]
    public void LoadTestSplit_WithALimit()
    {
        Assert.Equal(5, Repo.Catalog.LoadTestSplit("explore-exploit", 5).Count());
    }

    [Fact]
    public void WriteSplit_WritesOneLinePerEpisodeWithUnixNewlinesAndNoBom()
    {
        var task = Repo.Catalog.Load("explore-exploit");
        using var stream = new MemoryStream();

        TaskCatalog.WriteSplit(task, "train", 3, stream);

        var bytes = stream.ToArray();
        Assert.NotEqual(0xEF, bytes[0]);
        Assert.Equal(3, bytes.Count(b => b == (byte)'\n'));
        Assert.DoesNotContain((byte)'\r', bytes);
        Assert.Equal((byte)'\n', bytes[^1]);
    }
}
