namespace CausalEval.Models.Tests;

/// <summary>The CLI's side of chat models, run as a process with a controlled environment.</summary>
public class CliTests
{
    [Fact]
    public void A_missing_key_is_bad_input_naming_the_variable_and_leaves_no_run_folder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "causaleval-nokey-" + Guid.NewGuid().ToString("N"));
        var run = Path.Combine(folder, "run");
        try
        {
            var (code, _, stderr) = Cli.Run(folder, new Dictionary<string, string>(),
                "run", "--datasets", Repo.Datasets, "--model", "openai/gpt-4o-mini", "--episodes", "1", "--out", run, "--quiet");

            Assert.Equal(2, code);
            Assert.Contains("error: --model: openai/gpt-4o-mini: OPENAI_API_KEY is not set", stderr);
            Assert.False(Directory.Exists(run));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Models_lists_every_provider_and_says_whether_each_variable_is_set_never_its_value()
    {
        var canary = "sk-CANARY-" + Guid.NewGuid().ToString("N");
        var (code, stdout, stderr) = Cli.Run(Path.GetTempPath(), new Dictionary<string, string> { ["OPENAI_API_KEY"] = canary }, "models");

        Assert.True(code == 0, stderr);
        Assert.DoesNotContain(canary, stdout);
        Assert.Matches(@"OPENAI_API_KEY\s+required\s+set\s", stdout);
        Assert.Matches(@"AZURE_OPENAI_ENDPOINT\s+required\s+not set", stdout);
        foreach (var syntax in new[] { "openai/<model>", "azure/<deployment>", "ollama/<model>", "openai-compatible/<model>@<base-url>", "builtin/expert" })
        {
            Assert.Contains(syntax, stdout);
        }
    }
}
