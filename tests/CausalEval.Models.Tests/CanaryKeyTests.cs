using System.Text;
using System.Text.Json.Nodes;
using CausalEval.Models.Middleware;

namespace CausalEval.Models.Tests;

/// <summary>
/// API keys come from the environment only and never reach a file a run writes — not the manifest, not the trials (their
/// messages, answers or errors, even when a server echoes the key back), not the leaderboard, not the response cache —
/// nor its output. Runs the real causaleval executable as a process, with canary keys in its environment, against
/// WireMock fakes, twice (the second run is answered from the cache).
/// </summary>
public class CanaryKeyTests
{
    [Fact]
    public void Canary_keys_never_appear_in_any_file_of_the_run_folder()
    {
        var openAiKey = "sk-CANARY-" + Guid.NewGuid().ToString("N");
        var azureKey = "AZ-CANARY-" + Guid.NewGuid().ToString("N");
        var compatibleKey = "LOCAL-CANARY-" + Guid.NewGuid().ToString("N");
        string Script(int turn, JsonObject _) => turn < 5 ? $"ACTION: do({(char)('A' + turn)} = 5)" : turn == 5 ? "ACTION: do(A = -5)" : "EDGES: none";
        using var openAi = FakeProvider.OpenAi(openAiKey, Script);
        using var azure = FakeProvider.Azure(azureKey, "dep", "2024-10-21", Script);
        using var echoing = FakeProvider.EchoingUnauthorized();
        var folder = Path.Combine(Path.GetTempPath(), "causaleval-canary-" + Guid.NewGuid().ToString("N"));
        var run = Path.Combine(folder, "run");
        var cache = Path.Combine(folder, "cache");
        try
        {
            (int, string, string) Run(string output) => Cli.Run(folder, new Dictionary<string, string>
            {
                ["OPENAI_API_KEY"] = openAiKey,
                ["OPENAI_BASE_URL"] = openAi.Url + "/v1",
                ["AZURE_OPENAI_ENDPOINT"] = azure.Url,
                ["AZURE_OPENAI_API_KEY"] = azureKey,
                ["OPENAI_COMPATIBLE_API_KEY"] = compatibleKey,
            },
            "run", "--datasets", Repo.Datasets, "--task", "explore-exploit", "--task", "passive-exploit-observational",
            "--model", "openai/gpt-test", "--model", "azure/dep", "--model", $"openai-compatible/echo@{echoing.Url}/v1", "--model", "builtin/expert",
            "--prompt", "zero-shot", "--prompt", "few-shot-explanations-reasoning", "--names", "semantic",
            "--episodes", "2", "--concurrency", "2", "--out", output, "--cache-dir", cache);
            var (code, stdout, stderr) = Run(run);
            // A second run: answered from the cache, except the refused calls (failures are never cached).
            var calls = openAi.Bills.Count + azure.Bills.Count;
            var (_, stdout2, stderr2) = Run(run + "-again");
            Assert.Equal(calls, openAi.Bills.Count + azure.Bills.Count);
            stdout += stdout2;
            stderr += stderr2;

            // The echoing server fails its trials (exit 1), and its error is recorded — with the key redacted.
            Assert.True(code == 1, $"exit {code}\n{stderr}");
            var files = Directory.EnumerateFiles(run, "*", SearchOption.AllDirectories)
                .Concat(Directory.EnumerateFiles(run + "-again", "*", SearchOption.AllDirectories)).ToList();
            Assert.Contains(files, f => f.EndsWith("trials.jsonl", StringComparison.Ordinal));
            Assert.Contains(files, f => f.EndsWith("run.json", StringComparison.Ordinal));
            foreach (var file in files)
            {
                var text = File.ReadAllText(file);
                foreach (var key in new[] { openAiKey, azureKey, compatibleKey })
                {
                    Assert.False(text.Contains(key, StringComparison.Ordinal), $"{Path.GetFileName(file)} contains a key");
                    Assert.False(text.Contains(key[^12..], StringComparison.Ordinal), $"{Path.GetFileName(file)} contains part of a key");
                }
            }
            foreach (var key in new[] { openAiKey, azureKey, compatibleKey })
            {
                Assert.DoesNotContain(key, stdout + stderr);
                Assert.DoesNotContain(key[^12..], stdout + stderr);
            }
            // The response cache's files (database and WAL), byte for byte: answers and token counts, never a key.
            var cacheFiles = Directory.EnumerateFiles(cache, "*", SearchOption.AllDirectories).ToList();
            Assert.Contains(cacheFiles, f => f.EndsWith(ResponseCacheStore.FileName, StringComparison.Ordinal));
            foreach (var file in cacheFiles)
            {
                var bytes = File.ReadAllBytes(file);
                foreach (var key in new[] { openAiKey, azureKey, compatibleKey })
                {
                    Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(key[^12..])) < 0, $"{Path.GetFileName(file)} contains a key");
                }
            }

            var trials = File.ReadAllLines(Path.Combine(run, "trials.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            // 2 tasks × 2 episodes × (3 chat models × 2 variants + 1 built-in)
            Assert.Equal(2 * 2 * (3 * 2 + 1), trials.Count);
            var echoed = trials.Where(t => t["model"]!.GetValue<string>().StartsWith("openai-compatible/", StringComparison.Ordinal)).ToList();
            Assert.All(echoed, t => Assert.Contains("[redacted]", t["error"]!["message"]!.GetValue<string>()));
            Assert.All(trials.Where(t => !t["model"]!.GetValue<string>().StartsWith("openai-compatible/", StringComparison.Ordinal)), t => Assert.Null(t["error"]));
            Assert.All(trials.Where(t => t["model"]!.GetValue<string>() == "builtin/expert"), t => Assert.Null(t["naming"]));
            Assert.All(trials.Where(t => t["model"]!.GetValue<string>() == "azure/dep"), t => Assert.Equal("semantic", t["naming"]!.GetValue<string>()));
            Assert.True(openAi.Bills.Count > 0 && azure.Bills.Count > 0);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
