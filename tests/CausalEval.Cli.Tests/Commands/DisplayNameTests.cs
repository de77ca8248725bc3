using System.Text.Json.Nodes;

namespace CausalEval.Cli.Tests.Commands;

/// <summary><c>--model NAME=SPEC</c> and a plan's <c>name:</c>: shown in every table and the report, never in place of the id in run.json.</summary>
public class DisplayNameTests
{
    [Fact]
    public async Task Names_from_the_command_line_and_a_plan_show_in_the_leaderboards_csv_and_report_while_run_json_keeps_the_ids()
    {
        using var dir = new TempDir();
        var plan = dir.File("plan.yaml", "tasks: [explore-exploit]\nepisodes: 4\nmodels:\n  - id: builtin/random\n    name: Coin flipper\n  - Expert agent=builtin/expert\n");
        var run = Path.Combine(dir.Path, "run");

        var (code, stdout, stderr) = await Cli.RunAsync("run", "--plan", plan, "--datasets", Cli.Datasets, "--out", run, "--quiet");
        var (reportCode, _, reportError) = await Cli.RunAsync("report", run);

        Assert.True(code == 0, stderr);
        Assert.True(reportCode == 0, reportError);
        Assert.Matches(@"(?m)^\d+\s+Expert agent\s", stdout);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        Assert.Equal(["builtin/random", "builtin/expert"], manifest["models"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal("Coin flipper", manifest["model_names"]!["builtin/random"]!.GetValue<string>());
        var csv = File.ReadAllText(Path.Combine(run, "leaderboard.csv"));
        Assert.Contains("Coin flipper", csv, StringComparison.Ordinal);
        Assert.Contains("Expert agent", csv, StringComparison.Ordinal);
        Assert.DoesNotContain("builtin/", csv, StringComparison.Ordinal);
        Assert.Contains("Expert agent", File.ReadAllText(Path.Combine(run, "report.html")), StringComparison.Ordinal);
        Assert.Contains("Expert agent", File.ReadAllText(Path.Combine(run, "plots", "leaderboard.svg")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tasks: [explore-exploit]\nmodels:\n  - id: builtin/expert\n    name: a/b\n", "plan.yaml:4: models[0].name: a display name holds no")]
    [InlineData("tasks: [explore-exploit]\nmodels:\n  - same=builtin/expert\n  - same=builtin/random\n", "two models would show under this name")]
    public async Task A_bad_display_name_is_refused_with_exit_2_and_no_run_folder(string yaml, string expected)
    {
        using var dir = new TempDir();
        var plan = dir.File("plan.yaml", yaml);
        var run = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--plan", plan, "--datasets", Cli.Datasets, "--out", run, "--quiet");

        Assert.Equal(2, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(run));
    }
}
