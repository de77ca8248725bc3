using System.Text;
using CausalEval.Core.Running;
using CausalEval.Core.Results;

namespace CausalEval.Core.Tests.Results;

public sealed class TrialLogTests : IDisposable
{
    private const string Line =
        """{"trial_id":"t1","task":"explore-exploit","task_version":1,"split":"test","episode":"test-0003","model":"builtin/expert","prompt_variant":null,"epoch":2,"seed":1,"target":"E","steps":[{"index":0},{"index":1}],"scores":{"exploit_value":5,"optimal_value":10,"normalized":0.5,"optimal_action":0,"regret":5,"explore_coverage":1,"subset_adherence":null,"structure_f1":null,"shd":null,"invalid_actions":1,"parse_failures":0},"usage":{"input_tokens":120,"output_tokens":7},"cost":0.25,"latency_ms":12.5,"started_at":"x","finished_at":"y","error":null}""";

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"trial-log-{Guid.NewGuid():N}.jsonl");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void A_line_gives_its_identity_scores_usage_cost_and_latency()
    {
        File.WriteAllText(_path, Line + "\n");

        var trial = Assert.Single(TrialLog.Read(_path));

        Assert.Equal(("t1", "explore-exploit", "test-0003", "builtin/expert", 2), (trial.TrialId, trial.Task, trial.Episode, trial.Model, trial.Epoch));
        Assert.Null(trial.PromptVariant);
        Assert.Null(trial.Naming);
        Assert.Equal(0.5, trial.Scores!.Value.Normalized);
        Assert.Equal(1, trial.Scores.Value.InvalidActions);
        Assert.Equal(2, trial.Decisions);
        Assert.Equal((120L, 7L), (trial.Usage.InputTokens, trial.Usage.OutputTokens));
        Assert.Equal((0.25, 12.5), (trial.Cost, trial.LatencyMs));
        Assert.False(trial.Failed);
    }

    [Fact]
    public void Prompt_cache_reads_and_writes_are_read_back_apart()
    {
        File.WriteAllText(_path, Line.Replace("\"output_tokens\":7}", "\"output_tokens\":7,\"prompt_cache_tokens\":30,\"prompt_cache_write_tokens\":80}") + "\n");

        var trial = Assert.Single(TrialLog.Read(_path));

        Assert.Equal(new CausalEval.Core.Episodes.Usage(120, 7, PromptCacheTokens: 30, PromptCacheWriteTokens: 80), trial.Usage);
    }

    [Fact]
    public void Unmetered_attempts_are_read_back()
    {
        File.WriteAllText(_path, Line.Replace("\"output_tokens\":7}", "\"output_tokens\":7,\"unmetered_attempts\":3}") + "\n");

        Assert.Equal(3, Assert.Single(TrialLog.Read(_path)).Usage.UnmeteredAttempts);
    }

    [Fact]
    public void Naming_and_prompt_variant_are_read_when_present_and_unknown_fields_are_ignored()
    {
        var line = Line.Replace("\"prompt_variant\":null", "\"prompt_variant\":\"few-shot\",\"naming\":\"semantic\",\"lenient_action\":{\"x\":[1,2]}");
        File.WriteAllText(_path, line + "\n" + Line.Replace("\"latency_ms\":12.5,", ""));

        var trials = TrialLog.Read(_path).ToList();

        Assert.Equal(("few-shot", "semantic"), (trials[0].PromptVariant, trials[0].Naming));
        Assert.True(double.IsNaN(trials[1].LatencyMs));
    }

    [Theory]
    [InlineData("\"epoch\":2", "\"epoch\":\"two\"", "epoch: expected a whole number, found \"two\"")]
    [InlineData("\"normalized\":0.5", "\"normalized\":true", "scores.normalized: expected a number or null, found true")]
    [InlineData("\"model\":\"builtin/expert\",", "", "model: required field is missing")]
    [InlineData("\"usage\":{\"input_tokens\":120,\"output_tokens\":7}", "\"usage\":3", "usage: expected an object, found 3")]
    [InlineData("\"optimal_action\":0", "\"optimal_action\":2", "scores.optimal_action: expected 0 or 1, found 2")]
    [InlineData("\"trial_id\"", "\"trial_id\"::", "byte 13: not a JSON object")]
    [InlineData("\"error\":null}", "\"error\":null} x", "not a JSON object")]
    [InlineData("\"invalid_actions\":1,", "\"extra\":[1,{\"a\":2}],", "scores.invalid_actions: required field is missing")]
    [InlineData("\"input_tokens\":120", "\"input_tokens\":-120", "usage: token counts must be at least 0")]
    [InlineData("\"output_tokens\":7}", "\"output_tokens\":7,\"prompt_cache_write_tokens\":-9}", "usage: token counts must be at least 0")]
    [InlineData("\"output_tokens\":7}", "\"output_tokens\":7,\"unmetered_attempts\":-1}", "usage: token counts must be at least 0")]
    [InlineData("\"cost\":0.25", "\"cost\":-4000.02", "cost: must be a finite number of US dollars")]
    public void A_malformed_line_names_the_file_the_line_and_the_field(string from, string to, string message)
    {
        File.WriteAllText(_path, Line + "\n\n" + Line.Replace(from, to) + "\n");

        var error = Assert.Throws<InputException>(() => TrialLog.Read(_path).ToList());

        Assert.Equal($"{_path}:3", error.Origin);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_torn_last_line_is_skipped_and_reported_only_when_the_caller_asks()
    {
        File.WriteAllText(_path, Line + "\n" + Line[..100]);
        var torn = new List<(long Line, int Bytes)>();

        var lines = TrialLog.ReadLines(_path, (line, bytes) => torn.Add((line, bytes))).Select(l => l.Summary.TrialId).ToList();

        Assert.Equal(["t1"], lines);
        Assert.Equal([(2L, 100)], torn);
        Assert.Throws<InputException>(() => TrialLog.Read(_path).ToList());
    }

    [Fact]
    public void A_last_line_without_its_newline_is_read_when_it_is_whole()
    {
        File.WriteAllText(_path, Line + "\n" + Line.Replace("\"t1\"", "\"t2\""));

        Assert.Equal(["t1", "t2"], TrialLog.Read(_path).Select(t => t.TrialId));
    }

    [Fact]
    public void Lines_longer_than_the_read_buffer_come_back_whole_with_their_bytes()
    {
        // A 3 MB transcript field crosses every buffer boundary; the bytes handed out are exactly the line.
        var big = Line.Replace("\"target\":\"E\"", "\"target\":\"E\",\"messages\":\"" + new string('x', 3 << 20) + "\"");
        File.WriteAllText(_path, Line + "\n" + big + "\n" + Line.Replace("\"t1\"", "\"t3\"") + "\n", new UTF8Encoding(false));

        var lines = TrialLog.ReadLines(_path).Select(l => (l.LineNumber, l.Summary.TrialId, Text: Encoding.UTF8.GetString(l.Json.Span))).ToList();

        Assert.Equal([1L, 2L, 3L], lines.Select(l => l.LineNumber));
        Assert.Equal(big, lines[1].Text);
        Assert.Equal("t3", lines[2].TrialId);
    }
}
