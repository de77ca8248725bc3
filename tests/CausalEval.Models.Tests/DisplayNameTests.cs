using System.Text.Json.Nodes;

namespace CausalEval.Models.Tests;

/// <summary><c>--model NAME=SPEC</c> through the CLI against a fake server: the name is shown, the spec is what is sent and cached.</summary>
public class DisplayNameTests
{
    [Fact]
    public void A_display_name_shows_in_trials_and_leaderboard_and_the_cache_keys_on_what_is_sent_not_on_the_name()
    {
        using var server = new LatencyServer(TimeSpan.FromMilliseconds(5));
        var folder = Path.Combine(Path.GetTempPath(), "causaleval-names-" + Guid.NewGuid().ToString("N"));
        var cache = Path.Combine(folder, "cache");
        var spec = $"openai-compatible/m@{server.BaseUrl}?temperature=0";
        (int Code, string Out, string Error) Run(string output, string model) => Cli.Run(folder,
            new Dictionary<string, string> { ["OPENAI_COMPATIBLE_API_KEY"] = "k" },
            "run", "--datasets", Repo.Datasets, "--task", "passive-exploit-interventional", "--model", model, "--prompt", "zero-shot",
            "--episodes", "3", "--cache-dir", cache, "--out", Path.Combine(folder, output), "--quiet");
        try
        {
            var first = Run("first", $"local m-t0={spec}");
            Assert.True(first.Code == 0, first.Error);
            var calls = server.Requests;
            Assert.Equal(3, calls);

            var second = Run("second", $"another name={spec}");

            Assert.True(second.Code == 0, second.Error);
            Assert.Equal(calls, server.Requests); // the same requests under another name: answered from the cache
            var trials = File.ReadAllLines(Path.Combine(folder, "first", "trials.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
            Assert.All(trials, t => Assert.Equal("local m-t0", t["model"]!.GetValue<string>()));
            Assert.All(trials, t => Assert.Equal(spec, t["model_spec"]!.GetValue<string>()));
            Assert.Matches(@"(?m)^\d+\s+local m-t0\s", first.Out);
            Assert.DoesNotContain(server.BaseUrl, first.Out, StringComparison.Ordinal);
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "first", "run.json")))!;
            Assert.Equal(spec, manifest["models"]![0]!.GetValue<string>());
            Assert.Equal("local m-t0", manifest["model_names"]![spec]!.GetValue<string>());
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }
}
