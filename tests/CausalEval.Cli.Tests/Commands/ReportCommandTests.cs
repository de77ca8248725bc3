using System.Text.Json.Nodes;

namespace CausalEval.Cli.Tests.Commands;

public class ReportCommandTests
{
    private static async Task<string> Run(TempDir dir, string name, params string[] extra)
    {
        var runDir = Path.Combine(dir.Path, name);
        var (code, _, stderr) = await Cli.RunAsync(["run", "--datasets", Cli.Datasets, "--task", "explore-exploit", "--task", "passive-exploit-observational",
            "--episodes", "8", "--epochs", "2", "--out", runDir, "--quiet", .. extra]);
        Assert.True(code == 0, stderr);
        return runDir;
    }

    [Fact]
    public async Task A_run_folder_gets_every_report_file_and_the_leaderboard_on_stdout()
    {
        using var dir = new TempDir();
        var run = await Run(dir, "run");

        var (code, stdout, stderr) = await Cli.RunAsync("report", run);

        Assert.True(code == 0, stderr);
        var models = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!["models"]!.AsArray().Count; // the default suite
        foreach (var file in new[] { "leaderboard.md", "leaderboard.csv", "comparisons.csv", "report.html", "plots/leaderboard.png", "plots/leaderboard.svg", "plots/score_by_task.png" })
        {
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} missing");
        }
        Assert.False(File.Exists(Path.Combine(run, "ablation.md"))); // one prompt condition: no ablation
        Assert.Contains("| 1 | builtin/optimal | 1.000 [1.000, 1.000] |", stdout, StringComparison.Ordinal);
        Assert.Contains($"report: {Path.Combine(run, "report.html")} ({2 * 8 * 2 * models} trials", stdout, StringComparison.Ordinal);
        Assert.Equal(1 + models * 3, File.ReadAllLines(Path.Combine(run, "leaderboard.csv")).Length); // overall + 2 tasks
        Assert.Equal(1 + models * (models - 1) / 2, File.ReadAllLines(Path.Combine(run, "comparisons.csv")).Length);
    }

    [Fact]
    public async Task Runs_of_the_same_task_versions_merge_into_one_report_elsewhere()
    {
        using var dir = new TempDir();
        var a = await Run(dir, "a", "--model", "builtin/expert");
        var b = await Run(dir, "b", "--model", "builtin/random", "--seed", "3");
        var output = Path.Combine(dir.Path, "merged");

        var (code, stdout, stderr) = await Cli.RunAsync("report", a, b, "--out", output);

        Assert.True(code == 0, stderr);
        var csv = File.ReadAllText(Path.Combine(output, "comparisons.csv"));
        Assert.Contains("builtin/expert,,,builtin/random,,,16,", csv, StringComparison.Ordinal);
        Assert.Contains("2 runs merged", File.ReadAllText(Path.Combine(output, "leaderboard.md")), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(a, "report.html")));
    }

    [Fact]
    public async Task Shard_folders_merge_into_the_report_of_the_unsharded_run_and_a_missing_shard_is_named()
    {
        using var dir = new TempDir();
        string[] models = ["--model", "builtin/expert", "--model", "builtin/random", "--model", "builtin/correlational"];
        var whole = await Run(dir, "whole", models);
        var shards = new List<string>();
        for (var k = 1; k <= 3; k++)
        {
            shards.Add(await Run(dir, $"shard{k}", [.. models, "--shard", $"{k}/3"]));
        }
        var merged = Path.Combine(dir.Path, "merged");

        var (code, _, stderr) = await Cli.RunAsync(["report", .. shards, "--out", merged]);
        var (wholeCode, _, wholeError) = await Cli.RunAsync("report", whole);

        Assert.True(code == 0, stderr);
        Assert.True(wholeCode == 0, wholeError);
        // Same trials, same scores: the tables are the same, intervals included (latencies are wall time, so they are left out).
        static IEnumerable<string> WithoutLatency(string folder) =>
            File.ReadAllLines(Path.Combine(folder, "leaderboard.csv")).Select(line => string.Join(',', line.Split(',')[..^2]));
        Assert.Equal(WithoutLatency(whole), WithoutLatency(merged));
        Assert.Equal(10, WithoutLatency(merged).Count()); // header, then overall and 2 tasks for each of 3 models
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "comparisons.csv")), File.ReadAllText(Path.Combine(merged, "comparisons.csv")));
        Assert.DoesNotContain("not given", stderr, StringComparison.Ordinal);

        var (partCode, _, partError) = await Cli.RunAsync("report", shards[0], shards[2], "--out", Path.Combine(dir.Path, "part"));

        Assert.True(partCode == 0, partError);
        Assert.Contains("shard(s) 2/3 were not given", File.ReadAllText(Path.Combine(dir.Path, "part", "leaderboard.md")) + partError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0/2")]
    [InlineData("3/2")]
    [InlineData("half")]
    public async Task A_shard_that_is_not_K_of_N_is_refused_with_exit_2_and_no_run_folder(string shard)
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--task", "explore-exploit", "--episodes", "2",
            "--out", runDir, "--quiet", "--shard", shard);

        Assert.Equal(2, code);
        Assert.Contains("--shard", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(runDir));
    }

    [Fact]
    public async Task Runs_of_different_task_versions_are_refused_with_exit_2()
    {
        using var dir = new TempDir();
        var a = await Run(dir, "a", "--model", "builtin/expert");
        var b = await Run(dir, "b", "--model", "builtin/random");
        var manifest = Path.Combine(b, "run.json");
        var json = JsonNode.Parse(File.ReadAllText(manifest))!;
        json["tasks"]![1]!["version"] = 2;
        File.WriteAllText(manifest, json.ToJsonString());

        var (code, _, stderr) = await Cli.RunAsync("report", a, b);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains($"error: {manifest}: tasks[1].version: passive-exploit-observational is version 2 here but version 1 in", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(a, "report.html")));
    }

    [Fact]
    public async Task A_malformed_trial_line_is_refused_with_exit_2_naming_file_line_and_field()
    {
        using var dir = new TempDir();
        var run = await Run(dir, "run", "--model", "builtin/expert");
        var trials = Path.Combine(run, "trials.jsonl");
        var lines = File.ReadAllLines(trials);
        var line = JsonNode.Parse(lines[4])!;
        line["scores"]!["normalized"] = "high";
        lines[4] = line.ToJsonString();
        File.WriteAllLines(trials, lines);

        var (code, _, stderr) = await Cli.RunAsync("report", run);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains($"error: {trials}:5: scores.normalized: expected a number or null, found \"high\"", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(run, "report.html")));
    }

    [Fact]
    public async Task Without_a_run_folder_it_is_bad_input()
    {
        var (code, _, stderr) = await Cli.RunAsync("report");

        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("Required argument missing for command: 'report'", stderr, StringComparison.Ordinal);
    }
}
