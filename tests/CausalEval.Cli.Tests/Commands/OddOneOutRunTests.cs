using System.Text.Json.Nodes;

namespace CausalEval.Cli.Tests.Commands;

public class OddOneOutRunTests
{
    [Fact]
    public async Task Run_task_odd_one_out_confounded_plays_the_reference_agents_and_both_explanation_checkpoints_offline()
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");

        var (code, stdout, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--task", "odd-one-out-confounded", "--episodes", "30", "--out", runDir, "--quiet");

        Assert.True(code == 0, stderr);
        var trials = (await File.ReadAllLinesAsync(Path.Combine(runDir, "trials.jsonl"))).Select(l => JsonNode.Parse(l)!).ToList();
        // The default models for this family: the four built-in agents that play it and the two committed odd-one-out checkpoints.
        Assert.Equal(["builtin/expert", "builtin/optimal", "builtin/random", "builtin/shortcut", "torch/ooo-explanations", "torch/ooo-no-explanations"],
            trials.Select(t => t["model"]!.GetValue<string>()).Distinct().Order());
        Assert.Equal(6 * 30, trials.Count);
        // The checkpoints imitate the expert's experiments: every move valid, each dimension transformed once.
        Assert.All(trials.Where(t => t["model"]!.GetValue<string>().StartsWith("torch/", StringComparison.Ordinal)), t =>
        {
            Assert.Null(t["error"]);
            Assert.Equal(0, t["scores"]!["invalid_actions"]!.GetValue<int>());
            Assert.Equal(1.0, t["scores"]!["explore_coverage"]!.GetValue<double>());
        });
        var committed = File.ReadLines(Path.Combine(Cli.Datasets, "odd-one-out-confounded", "test.jsonl")).Take(30)
            .Select(l => JsonNode.Parse(l)!["concept"]!.GetValue<string>()).ToList();
        foreach (var trial in trials)
        {
            Assert.Null(trial["target"]);
            Assert.Equal(committed[int.Parse(trial["episode"]!.GetValue<string>()[5..])], trial["concept"]!.GetValue<string>());
            var steps = trial["steps"]!.AsArray();
            Assert.Equal(7, steps.Count);
            Assert.Equal("exploit", steps[6]!["phase"]!.GetValue<string>());
            Assert.Equal("pick", steps[6]!["move"]!["kind"]!.GetValue<string>());
            Assert.Equal(4, steps[6]!["objects"]!.AsArray().Count);
        }
        Assert.All(trials.Where(t => t["model"]!.GetValue<string>() == "builtin/expert"), t => Assert.Equal(1, t["scores"]!["optimal_action"]!.GetValue<int>()));
        Assert.Contains("| odd-one-out-confounded | builtin/expert | — | 30 | 1.000 | 1.000 | 0.000 |", await File.ReadAllTextAsync(Path.Combine(runDir, "leaderboard.md")));
        Assert.Matches(@"(?m)^\d+\s+builtin/expert\s+—\s+30\s+1\.000 \[1\.000, 1\.000\]", stdout);
        Assert.Contains("Odd-one-out tasks: exploit value = 1 when the pick is unique along the concept", await File.ReadAllTextAsync(Path.Combine(runDir, "leaderboard.md")));
    }

    [Fact]
    public async Task An_interrupted_odd_one_out_run_resumes_to_the_same_trials()
    {
        using var dir = new TempDir();
        var full = Path.Combine(dir.Path, "full");
        var broken = Path.Combine(dir.Path, "broken");
        string[] plan = ["run", "--datasets", Cli.Datasets, "--task", "odd-one-out-heldout-dimension", "--episodes", "10", "--seed", "3", "--quiet"];
        Assert.Equal(0, (await Cli.RunAsync([.. plan, "--out", full])).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync([.. plan, "--out", broken])).ExitCode);
        var lines = await File.ReadAllLinesAsync(Path.Combine(broken, "trials.jsonl"));
        await File.WriteAllTextAsync(Path.Combine(broken, "trials.jsonl"), string.Join('\n', lines[..15]) + "\n");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(broken, "run.json")))!;
        manifest["status"] = "running";
        await File.WriteAllTextAsync(Path.Combine(broken, "run.json"), manifest.ToJsonString());

        var (code, _, stderr) = await Cli.RunAsync("run", "--resume", broken, "--datasets", Cli.Datasets, "--quiet");

        Assert.True(code == 0, stderr);
        static List<string> Sorted(string path) => [.. File.ReadAllLines(path).Select(l =>
        {
            var node = JsonNode.Parse(l)!.AsObject();
            node.Remove("started_at");
            node.Remove("finished_at");
            node.Remove("latency_ms");
            return node.ToJsonString();
        }).Order(StringComparer.Ordinal)];
        Assert.Equal(Sorted(Path.Combine(full, "trials.jsonl")), Sorted(Path.Combine(broken, "trials.jsonl")));
    }

    [Fact]
    public async Task Prompts_stats_prices_every_variant_of_an_odd_one_out_episode()
    {
        var (code, stdout, stderr) = await Cli.RunAsync("prompts", "stats", "--task", "odd-one-out-confounded", "--datasets", Cli.Datasets);

        Assert.True(code == 0, stderr);
        Assert.Contains("for odd-one-out-confounded test-0000", stdout);
        Assert.Matches(@"\| few-shot-explanations-reasoning \| letters \| [0-9,]+ \| [0-9,]+ \| 7 \|", stdout);
    }

    [Fact]
    public async Task A_model_that_does_not_play_the_family_is_bad_input_and_leaves_no_run_folder()
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--task", "odd-one-out", "--model", "builtin/correlational", "--out", runDir);

        Assert.Equal(2, code);
        Assert.Contains("builtin/correlational: does not play odd-one-out tasks (--task odd-one-out)", stderr);
        Assert.False(Directory.Exists(runDir));
    }

    [Theory]
    [InlineData("odd-one-out")]
    [InlineData("odd-one-out-confounded")]
    [InlineData("odd-one-out-heldout-dimension")]
    public async Task Datasets_generate_reproduces_the_committed_test_split_and_show_reports_the_shortcut(string taskId)
    {
        var (code, stdout, stderr) = await Cli.RunAsync("datasets", "generate", taskId, "--datasets", Cli.Datasets);
        var show = await Cli.RunAsync("datasets", "show", taskId, "--datasets", Cli.Datasets);

        Assert.Equal((0, ""), (code, stderr));
        Assert.True(await File.ReadAllTextAsync(Path.Combine(Cli.Datasets, taskId, "test.jsonl")) == stdout, $"{taskId}: bump the task version and regenerate");
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("matches `datasets generate`: yes", show.Out);
        Assert.Contains("share of confounded exploit trials: 0.000", show.Out);
        Assert.Contains("exploit accuracy of builtin/expert (each dimension tested once): 1.000", show.Out);
    }
}
