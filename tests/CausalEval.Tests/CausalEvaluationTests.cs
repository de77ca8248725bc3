using System.Text.Json;
using CausalEval.Core;
using CausalEval.Core.Running;
using CausalEval.Core.Results;

namespace CausalEval.Tests;

public class CausalEvaluationTests
{
    private static EvaluationOptions Options(TempFolder dir, FirstVariableClient client, string output = "run") => new()
    {
        Tasks = ["explore-exploit", "passive-exploit-interventional"],
        Models = [EvaluatedModel.FromChatClient("my-model", client), EvaluatedModel.FromId("builtin/expert")],
        Prompts = ["zero-shot"],
        Episodes = 3,
        Epochs = 2,
        Seed = 11,
        Concurrency = 2,
        OutputDirectory = dir[output],
        CacheDirectory = dir["cache"],
    };

    [Fact]
    public async Task RunAsync_plays_a_chat_client_beside_a_builtin_agent_into_a_run_folder_that_records_its_name()
    {
        using var dir = new TempFolder();
        var client = new FirstVariableClient();

        var result = await CausalEvaluation.RunAsync(Options(dir, client));

        Assert.Equal(RunStatus.Finished, result.Status);
        Assert.Equal(dir["run"], result.RunDirectory);
        Assert.Equal((24L, 24L, 0L), (result.TrialsPlanned, result.TrialsWritten, result.TrialErrors));
        Assert.All(client.FirstMessages, m => Assert.Contains("ACTION: do(", m, StringComparison.Ordinal));
        var trials = TrialLog.Read(Path.Combine(result.RunDirectory, "trials.jsonl")).ToList();
        // One model call per decision the trials of my-model record, and every passive trial is a single call.
        Assert.Equal(trials.Where(t => t.Model == "my-model").Sum(t => t.Decisions), client.Calls);
        Assert.All(trials.Where(t => t.Model == "my-model" && t.Task == "passive-exploit-interventional"), t => Assert.Equal(1, t.Decisions));
        Assert.Equal(12, trials.Count(t => t.Model == "my-model" && t.PromptVariant == "zero-shot"));
        Assert.Equal(12, trials.Count(t => t.Model == "builtin/expert" && t.PromptVariant is null));
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(result.RunDirectory, "run.json")));
        Assert.Equal(["my-model", "builtin/expert"], manifest.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal("finished", manifest.RootElement.GetProperty("status").GetString());

        // The leaderboard is the run's, tallied from its trials: always doing A=5 is rarely optimal, the expert nearly always is.
        var expert = result.Leaderboard.Single(e => e.Model == "builtin/expert" && e.Task == "explore-exploit");
        var mine = result.Leaderboard.Single(e => e.Model == "my-model" && e.Task == "explore-exploit");
        Assert.Equal((6L, "zero-shot"), (mine.Trials, mine.PromptVariant));
        var reread = new Leaderboard();
        trials.ForEach(reread.Add);
        var row = reread.ByTask().Single(r => r.Model == "my-model" && r.Task == "explore-exploit");
        Assert.Equal((row.Normalized, row.OptimalActionRate, row.Regret), (mine.Normalized, mine.OptimalAction, mine.Regret));
        Assert.True(expert.Normalized > mine.Normalized);
    }

    [Fact]
    public async Task RunAsync_answers_an_identical_second_run_from_the_response_cache_with_the_same_scores()
    {
        using var dir = new TempFolder();
        var first = new FirstVariableClient();
        var second = new FirstVariableClient();

        var a = await CausalEvaluation.RunAsync(Options(dir, first, "a"));
        var b = await CausalEvaluation.RunAsync(Options(dir, second, "b"));

        Assert.True(first.Calls > 0);
        Assert.Equal(0, second.Calls);
        Assert.Equal(a.Leaderboard, b.Leaderboard);
    }

    [Fact]
    public async Task RunAsync_refuses_two_models_with_one_name_and_an_unknown_task_before_creating_anything()
    {
        using var dir = new TempFolder();
        var client = new FirstVariableClient();

        var twice = await Assert.ThrowsAsync<InputException>(() => CausalEvaluation.RunAsync(Options(dir, client) with
        {
            Models = [EvaluatedModel.FromChatClient("m", client), EvaluatedModel.FromChatClient("m", client)],
        }));
        var unknown = await Assert.ThrowsAsync<InputException>(() => CausalEvaluation.RunAsync(Options(dir, client) with { Tasks = ["no-such-task"] }));

        Assert.Contains("two models have this name", twice.Message, StringComparison.Ordinal);
        Assert.Contains("no-such-task", unknown.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir["run"]));
        Assert.Equal(0, client.Calls);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" padded")]
    [InlineData("two\nlines")]
    public void FromChatClient_refuses_a_name_a_results_file_could_not_hold(string name)
    {
        Assert.Throws<InputException>(() => EvaluatedModel.FromChatClient(name, new FirstVariableClient()));
    }
}
