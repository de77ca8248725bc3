using CausalEval.Core.Episodes;
using CausalEval.Core.Results;
using CausalEval.Core.Running;

namespace CausalEval.Core.Tests.Results;

/// <summary>run.json keeps its bytes and its bad-input messages now that it is written and read through source-generated code.</summary>
public sealed class RunManifestFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("causaleval-manifest-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RunManifest Full() => new()
    {
        RunId = "20260101-000000-abc",
        CommandLine = ["run", "--model", "local=openai/x?temperature=0", "--max-cost", "2"],
        ToolVersion = "0.2.0-preview.1",
        GitRevision = "0123456789abcdef",
        Tasks = [new ManifestTask("explore-exploit", 1, "test", 200, "ab12"), new ManifestTask("odd-one-out", 2, "validation", 5, "cd34")],
        Models = ["builtin/expert", "openai/x?temperature=0"],
        ModelNames = new Dictionary<string, string> { ["openai/x?temperature=0"] = "local \"x\" <t0>" },
        PromptVariants = [null, "zero-shot"],
        Naming = "letters",
        Seed = ulong.MaxValue,
        Epochs = 2,
        Concurrency = 64,
        TrialsPlanned = 12,
        Observer = true,
        Shard = RunShard.Parse("2/3", "test", "shard"),
        TrialsWritten = 11,
        TrialErrors = 1,
        Status = RunStatus.StoppedByBudget,
        CostUsd = 0.1234567891,
        MaxCostUsd = 2,
        Usage = new Usage(100, 20, 5, 1, PromptCacheTokens: 3, UnmeteredAttempts: 2),
        CallPolicyJson = """{"cache":{"enabled":true,"dir":null},"retries":6,"backoff_base_s":1.5,"prices":{"openai/x":{"input_per_million":0.1}}}""",
        FailureReason = "budget reached",
        StoppedModels = new Dictionary<string, string> { ["openai/x?temperature=0"] = "endpoint unreachable" },
        StartedAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, 120, TimeSpan.Zero),
        FinishedAt = new DateTimeOffset(2026, 1, 1, 0, 5, 1, TimeSpan.FromHours(2)),
    };

    /// <summary>What the hand-written Utf8JsonWriter code wrote for <see cref="Full"/> (captured before the change).</summary>
    private const string Expected = """
        {
          "run_id": "20260101-000000-abc",
          "status": "stopped-by-budget",
          "command_line": [
            "run",
            "--model",
            "local=openai/x?temperature=0",
            "--max-cost",
            "2"
          ],
          "tool_version": "0.2.0-preview.1",
          "git_revision": "0123456789abcdef",
          "tasks": [
            {
              "id": "explore-exploit",
              "version": 1,
              "split": "test",
              "episodes": 200,
              "dataset_sha256": "ab12"
            },
            {
              "id": "odd-one-out",
              "version": 2,
              "split": "validation",
              "episodes": 5,
              "dataset_sha256": "cd34"
            }
          ],
          "models": [
            "builtin/expert",
            "openai/x?temperature=0"
          ],
          "model_names": {
            "openai/x?temperature=0": "local \u0022x\u0022 \u003Ct0\u003E"
          },
          "prompt_variants": [
            null,
            "zero-shot"
          ],
          "naming": "letters",
          "seed": 18446744073709551615,
          "epochs": 2,
          "concurrency": 64,
          "trials_planned": 12,
          "observer": true,
          "shard": "2/3",
          "trials_written": 11,
          "trial_errors": 1,
          "cost_usd": 0.123457,
          "max_cost_usd": 2,
          "usage": {
            "input_tokens": 100,
            "output_tokens": 20,
            "cached_input_tokens": 5,
            "cached_output_tokens": 1,
            "prompt_cache_tokens": 3,
            "unmetered_attempts": 2
          },
          "call_policy": {
            "cache": {
              "enabled": true,
              "dir": null
            },
            "retries": 6,
            "backoff_base_s": 1.5,
            "prices": {
              "openai/x": {
                "input_per_million": 0.1
              }
            }
          },
          "failure_reason": "budget reached",
          "stopped_models": {
            "openai/x?temperature=0": "endpoint unreachable"
          },
          "started_at": "2026-01-01T00:00:00.12+00:00",
          "finished_at": "2026-01-01T00:05:01.0000000\u002B02:00"
        }
        """;

    [Fact]
    public void Save_writes_the_bytes_the_hand_written_writer_wrote()
    {
        Full().Save(_dir);

        var written = File.ReadAllText(Path.Combine(_dir, RunManifest.FileName));
        Assert.Equal(Expected, written);
    }

    [Fact]
    public void A_minimal_manifest_omits_what_it_always_omitted()
    {
        (Full() with
        {
            ModelNames = new Dictionary<string, string>(), Naming = null, Shard = null, MaxCostUsd = null, Usage = default, CallPolicyJson = null,
            FailureReason = null, StoppedModels = new Dictionary<string, string>(), FinishedAt = null, Status = RunStatus.Running,
        }).Save(_dir);

        var written = File.ReadAllText(Path.Combine(_dir, RunManifest.FileName));
        Assert.DoesNotContain("model_names", written, StringComparison.Ordinal);
        Assert.DoesNotContain("\"shard\"", written, StringComparison.Ordinal);
        Assert.DoesNotContain("call_policy", written, StringComparison.Ordinal);
        Assert.DoesNotContain("failure_reason", written, StringComparison.Ordinal);
        Assert.DoesNotContain("stopped_models", written, StringComparison.Ordinal);
        Assert.DoesNotContain("prompt_cache_tokens", written, StringComparison.Ordinal);
        Assert.Contains("\"naming\": null", written, StringComparison.Ordinal);
        Assert.Contains("\"max_cost_usd\": null", written, StringComparison.Ordinal);
        Assert.Contains("\"finished_at\": null", written, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_reads_back_what_Save_wrote()
    {
        var manifest = Full();
        manifest.Save(_dir);

        var loaded = RunManifest.Load(_dir);

        Assert.Equal(manifest.RunId, loaded.RunId);
        Assert.Equal(manifest.Status, loaded.Status);
        Assert.Equal(manifest.CommandLine, loaded.CommandLine);
        Assert.Equal(manifest.Tasks, loaded.Tasks);
        Assert.Equal(manifest.Models, loaded.Models);
        Assert.Equal(manifest.ModelNames, loaded.ModelNames);
        Assert.Equal(manifest.PromptVariants, loaded.PromptVariants);
        Assert.Equal(manifest.Seed, loaded.Seed);
        Assert.Equal(manifest.Shard, loaded.Shard);
        Assert.Equal(manifest.StartedAt, loaded.StartedAt);
        Assert.Equal(Math.Round(manifest.CostUsd, 6), loaded.CostUsd);
        Assert.Equal(manifest.MaxCostUsd, loaded.MaxCostUsd);
        Assert.Equal(manifest.FailureReason, loaded.FailureReason);
        Assert.Equal(1.5, System.Text.Json.JsonDocument.Parse(loaded.CallPolicyJson!).RootElement.GetProperty("backoff_base_s").GetDouble());
    }

    [Theory]
    [InlineData("\"epochs\": 2", "\"epochs\": 0", "epochs", "0 is out of range [1, 2147483647]")]
    [InlineData("\"epochs\": 2", "\"epochs\": \"two\"", "epochs", "expected a whole number, found string \"two\"")]
    [InlineData("\"seed\": 18446744073709551615", "\"seed\": -3", "seed", "expected a non-negative whole number, found number -3")]
    [InlineData("\"trials_planned\": 12", "\"trials_planned\": -1", "trials_planned", "-1 is below 0")]
    [InlineData("\"run_id\": \"20260101-000000-abc\",", "", "run_id", "required field is missing")]
    [InlineData("\"status\": \"stopped-by-budget\"", "\"status\": \"paused\"", "status", "expected running, finished, failed, interrupted or stopped-by-budget")]
    [InlineData("\"version\": 2", "\"version\": 2.5", "tasks[1].version", "expected a whole number, found number 2.5")]
    [InlineData("\"local \\u0022x\\u0022 \\u003Ct0\\u003E\"", "7", "model_names.openai/x?temperature=0", "expected a string, found number 7")]
    [InlineData("\"started_at\": \"2026-01-01T00:00:00.12+00:00\"", "\"started_at\": \"yesterday\"", "started_at", "expected a date and time (ISO 8601), found \"yesterday\"")]
    public void A_damaged_manifest_names_the_file_and_field(string from, string to, string field, string problem)
    {
        Full().Save(_dir);
        var path = Path.Combine(_dir, RunManifest.FileName);
        var text = File.ReadAllText(path);
        Assert.Contains(from, text, StringComparison.Ordinal);
        File.WriteAllText(path, text.Replace(from, to, StringComparison.Ordinal));

        var ex = Assert.Throws<InputException>(() => RunManifest.Load(_dir));

        Assert.Equal(path, ex.Origin);
        Assert.Equal(field, ex.Field);
        Assert.Equal(problem, ex.Problem);
    }

    [Fact]
    public void Unknown_fields_are_skipped_as_they_always_were()
    {
        Full().Save(_dir);
        var path = Path.Combine(_dir, RunManifest.FileName);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"run_id\"", "\"written_by\": {\"a\": [1]},\n  \"run_id\"", StringComparison.Ordinal));

        Assert.Equal("20260101-000000-abc", RunManifest.Load(_dir).RunId);
    }
}
