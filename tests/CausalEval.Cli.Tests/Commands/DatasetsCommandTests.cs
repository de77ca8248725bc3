namespace CausalEval.Cli.Tests.Commands;

public class DatasetsCommandTests
{
    public static TheoryData<string> TaskIds() => new(
        "explore-exploit",
        "explore-exploit-heldout-link",
        "explore-exploit-heldout-subset",
        "passive-exploit-interventional",
        "passive-exploit-observational");

    [Theory]
    [MemberData(nameof(TaskIds))]
    public async Task Generate_reproduces_the_committed_test_split_byte_for_byte(string taskId)
    {
        var (code, stdout, stderr) = await Cli.RunAsync("datasets", "generate", taskId, "--datasets", Cli.Datasets);

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        var committed = await File.ReadAllTextAsync(Path.Combine(Cli.Datasets, taskId, "test.jsonl"));
        Assert.True(committed == stdout, $"`causaleval datasets generate {taskId}` differs from datasets/{taskId}/test.jsonl: bump the task version and regenerate");
    }

    [Fact]
    public async Task Generate_to_a_file_writes_the_same_bytes_and_train_differs_from_test()
    {
        using var dir = new TempDir();
        var test = Path.Combine(dir.Path, "test.jsonl");
        var train = Path.Combine(dir.Path, "train.jsonl");

        Assert.Equal(0, (await Cli.RunAsync("datasets", "generate", "explore-exploit", "--datasets", Cli.Datasets, "--out", test)).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync("datasets", "generate", "explore-exploit", "--datasets", Cli.Datasets, "--split", "train", "--count", "20", "--out", train)).ExitCode);

        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(Cli.Datasets, "explore-exploit", "test.jsonl")), await File.ReadAllBytesAsync(test));
        var trainLines = await File.ReadAllLinesAsync(train);
        Assert.Equal(20, trainLines.Length);
        Assert.All(trainLines, line => Assert.Contains("\"split\":\"train\"", line));
    }

    [Fact]
    public async Task List_shows_every_task_with_its_version_and_size()
    {
        var (code, stdout, _) = await Cli.RunAsync("datasets", "list", "--datasets", Cli.Datasets);

        Assert.Equal(0, code);
        foreach (var id in TaskIds())
        {
            Assert.Matches($@"(?m)^{id}\s+1\s+\S+\s+200$", stdout);
        }
    }

    [Fact]
    public async Task Show_checks_the_committed_file_and_reports_the_shortcut_shares()
    {
        var (code, stdout, _) = await Cli.RunAsync("datasets", "show", "explore-exploit-heldout-link", "--datasets", Cli.Datasets);

        Assert.Equal(0, code);
        Assert.Contains("matches `datasets generate`: yes", stdout);
        Assert.Contains("share where the held-out link matters (builtin/training-support not optimal): 1.000", stdout);
    }

    [Fact]
    public async Task An_unknown_task_exits_2()
    {
        var (code, _, stderr) = await Cli.RunAsync("datasets", "show", "no-such-task", "--datasets", Cli.Datasets);

        Assert.Equal(2, code);
        Assert.Contains("no-such-task", stderr);
        Assert.Contains("unknown task", stderr);
    }

    [Fact]
    public async Task A_malformed_task_file_exits_2_naming_file_and_field()
    {
        using var dir = new TempDir();
        var task = dir.File("broken/task.json", """
            {"id": "broken", "version": 1, "family": "explore-exploit",
             "generator": {"variables": 12},
             "splits": {"train": {"seed": 1, "episodes": 5}, "test": {"seed": 2, "episodes": 5}}}
            """);

        var (code, _, stderr) = await Cli.RunAsync("datasets", "generate", "broken", "--datasets", dir.Path);

        Assert.Equal(2, code);
        Assert.Contains(task, stderr);
        Assert.Contains("generator.variables", stderr);
    }
}
