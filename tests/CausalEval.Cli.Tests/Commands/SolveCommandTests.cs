using System.Text.Json;

namespace CausalEval.Cli.Tests.Commands;

public class SolveCommandTests
{
    // A fork from C plus A->B: TE[C→B] = 1 (direct) + 1·1 (via A) = 2; TE[A→B] = 1.
    private const string ConfoundedFork = """
        {"variables": ["A", "B", "C"],
         "edges": [{"from": "C", "to": "A", "weight": 1}, {"from": "C", "to": "B", "weight": 1}, {"from": "A", "to": "B", "weight": 1}],
         "noise_sd": 0.1, "hidden": []}
        """;

    [Fact]
    public async Task Prints_total_effects_every_action_and_the_optimum_in_the_contract_shape()
    {
        using var dir = new TempDir();
        var world = dir.File("fork.json", ConfoundedFork);

        var (code, stdout, stderr) = await Cli.RunAsync("solve", world, "--target", "B");

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        var snapshot = await File.ReadAllTextAsync(Path.Combine(Cli.RepoRoot, "tests", "CausalEval.Cli.Tests", "Snapshots", "solve-fork.json"));
        Assert.Equal(snapshot.ReplaceLineEndings("\n").TrimEnd(), stdout.ReplaceLineEndings("\n").TrimEnd());
    }

    [Fact]
    public async Task A_world_whose_weights_overflow_the_effects_is_bad_input_naming_the_file()
    {
        using var dir = new TempDir();
        // Each weight is finite; along the chain A->B->C their product (1e400) is not.
        var world = dir.File("huge.json", """
            {"variables": ["A", "B", "C"],
             "edges": [{"from": "A", "to": "B", "weight": 1e200}, {"from": "B", "to": "C", "weight": 1e200}]}
            """);

        var (code, stdout, stderr) = await Cli.RunAsync("solve", world, "--target", "C");

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith($"error: {world}", stderr);
        Assert.Contains("edges: the weights make the total effect of A on ", stderr);
        Assert.DoesNotContain("Infinity", stdout);
    }

    [Fact]
    public async Task Lists_every_tied_maximiser()
    {
        using var dir = new TempDir();
        // A and B both push C up by 1: do(A=5) and do(B=5) tie at 5.
        var world = dir.File("tie.json", """
            {"variables": ["A", "B", "C"],
             "edges": [{"from": "A", "to": "C", "weight": 1}, {"from": "B", "to": "C", "weight": 1}]}
            """);

        var (code, stdout, _) = await Cli.RunAsync("solve", world, "--target", "C");

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        var optimal = json.RootElement.GetProperty("optimal").EnumerateArray()
            .Select(a => $"{a.GetProperty("variable").GetString()}={a.GetProperty("value").GetDouble()}:{a.GetProperty("expected").GetDouble()}")
            .ToArray();
        Assert.Equal(["A=5:5", "B=5:5"], optimal);
        Assert.Equal(4, json.RootElement.GetProperty("actions").GetArrayLength());
    }

    [Theory]
    [InlineData("""{"variables": ["A", "B"], "edges": [{"from": "A", "to": "B", "weight": 1}, {"from": "B", "to": "A", "weight": 1}]}""", "edges", "cycle: A -> B -> A")]
    [InlineData("""{"variables": ["A", "B"], "edges": [{"from": "A", "to": "Z", "weight": 1}]}""", "edges[0].to", "unknown variable 'Z'")]
    [InlineData("""{"variables": ["A", "A"]}""", "variables[1]", "duplicate variable name 'A'")]
    [InlineData("""{"variables": []}""", "variables", "empty")]
    [InlineData("""{"variables": ["A", "B"], "edges": [{"from": "A", "to": "B", "weight": "big"}]}""", "edges[0].weight", "expected a number")]
    [InlineData("""{"variables": ["A", "B"], "hidden": ["Q"]}""", "hidden[0]", "unknown variable 'Q'")]
    [InlineData("""{"variables": ["A", "B"], "edges": [}""", "line 1", "not valid JSON")]
    public async Task A_malformed_world_exits_2_naming_the_file_and_field(string worldJson, string field, string problem)
    {
        using var dir = new TempDir();
        var world = dir.File("bad.json", worldJson);

        var (code, stdout, stderr) = await Cli.RunAsync("solve", world, "--target", "B");

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(world, stderr);
        Assert.Contains(field, stderr);
        Assert.Contains(problem, stderr);
    }

    [Fact]
    public async Task A_hidden_or_unknown_target_exits_2()
    {
        using var dir = new TempDir();
        var world = dir.File("hidden.json", """{"variables": ["U", "A", "B"], "edges": [{"from": "U", "to": "A", "weight": 1}], "hidden": ["U"]}""");

        var hidden = await Cli.RunAsync("solve", world, "--target", "U");
        var unknown = await Cli.RunAsync("solve", world, "--target", "Q");

        Assert.Equal(2, hidden.ExitCode);
        Assert.Contains("--target: U: the target is hidden", hidden.Error);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--target: Q: not a variable", unknown.Error);
    }

    [Fact]
    public async Task A_missing_file_or_option_exits_2()
    {
        var missing = await Cli.RunAsync("solve", "/nonexistent/world.json", "--target", "B");
        var noTarget = await Cli.RunAsync("solve", "/nonexistent/world.json");

        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("/nonexistent/world.json", missing.Error);
        Assert.Equal(2, noTarget.ExitCode);
        Assert.Contains("--target", noTarget.Error);
    }
}
