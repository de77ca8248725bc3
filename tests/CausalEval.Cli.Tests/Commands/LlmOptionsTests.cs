namespace CausalEval.Cli.Tests.Commands;

/// <summary><c>run --prompt/--names</c> checks and <c>prompts</c> (chat models themselves are tested in CausalEval.Models.Tests).</summary>
public class LlmOptionsTests
{
    [Theory]
    [InlineData("--prompt", "few-shots", "--prompt: few-shots: no template")]
    [InlineData("--names", "klingon", "--names: klingon: unknown naming scheme")]
    public async Task Bad_prompt_options_are_bad_input_and_leave_no_run_folder(string option, string value, string message)
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--model", "openai-compatible/m@http://127.0.0.1:9/v1",
            option, value, "--episodes", "1", "--out", runDir, "--quiet");

        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.False(Directory.Exists(runDir));
    }

    [Fact]
    public async Task A_malformed_openai_compatible_id_is_bad_input()
    {
        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--model", "openai-compatible/no-url", "--quiet");

        Assert.Equal(2, code);
        Assert.Contains("expected openai-compatible/<model>@<base-url>", stderr);
    }

    [Fact]
    public async Task Built_in_agents_ignore_prompt_variants_and_have_no_naming()
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--model", "builtin/expert", "--task", "explore-exploit",
            "--prompt", "zero-shot", "--prompt", "few-shot", "--episodes", "3", "--out", runDir, "--quiet");

        Assert.True(code == 0, stderr);
        var lines = await File.ReadAllLinesAsync(Path.Combine(runDir, "trials.jsonl"));
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.Contains("\"prompt_variant\":null,\"naming\":null", l));
    }

    [Fact]
    public async Task Prompts_stats_prices_every_variant_and_naming_scheme()
    {
        var (code, stdout, stderr) = await Cli.RunAsync("prompts", "stats", "--datasets", Cli.Datasets, "--task", "passive-exploit-interventional");

        Assert.True(code == 0, stderr);
        var rows = stdout.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| variant", StringComparison.Ordinal)).ToList();
        Assert.Equal(4 * 3, rows.Count);
        Assert.Contains(rows, r => r.StartsWith("| few-shot-explanations-reasoning | semantic |", StringComparison.Ordinal));
    }
}
