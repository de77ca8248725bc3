using System.Text.Json.Nodes;
using CausalEval.Core.Agents;
using CausalEval.Core.Results;
using CausalEval.Core.Running;
using CausalEval.Models.Batch;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;
using CausalEval.Runs;

namespace CausalEval.Models.Tests;

/// <summary>
/// <c>run --batch</c> over a fake of OpenAI's Files and Batches APIs (real wire format): the requests of a round go as a
/// JSONL file uploaded with <c>purpose=batch</c>, one batch per round, polled until it ends; answers come from the output
/// file, failures from the error file, classified like live calls; trials are priced at the batch rate; a resumed run polls
/// what it had submitted and submits nothing twice.
/// </summary>
public class BatchTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Model = "openai/gpt-4o-mini";

    /// <summary>prompts/prices.json's gpt-4o-mini rates (US dollars per million tokens), and the fake's usage per call.</summary>
    private const double Input = 0.15, Output = 0.60, InputTokens = 120, OutputTokens = 9;

    private static readonly BatchSettings Fast = new() { FirstPoll = TimeSpan.FromSeconds(1), MaxPoll = TimeSpan.FromSeconds(4) };

    [Fact]
    public async Task A_single_turn_batch_run_uploads_one_file_polls_it_to_completion_and_prices_every_trial_at_half_the_live_rate()
    {
        using var api = new FakeBatchApi();
        var folder = Folder();
        var (result, batches) = await RunAsync(api, Request("passive-exploit-interventional", 3, folder));

        Assert.Equal(RunStatus.Finished, result.Status);
        Assert.Equal(["batch"], api.Purposes);
        Assert.Equal(["/v1/chat/completions"], api.Endpoints);
        var upload = Assert.Single(api.Uploads);
        Assert.Equal(3, upload.Count);
        Assert.All(upload, line =>
        {
            Assert.Equal("POST", (string?)line["method"]);
            Assert.Equal("/v1/chat/completions", (string?)line["url"]);
            Assert.Equal("gpt-4o-mini", (string?)line["body"]!["model"]);
        });
        Assert.Equal(["in_progress", "completed"], api.Statuses);
        Assert.Equal((1, 1, 0), (batches.Rounds, batches.BatchesCreated, batches.BatchesResumed));

        var trials = Trials(folder);
        Assert.Equal(3, trials.Count);
        var live = (InputTokens * Input + OutputTokens * Output) / 1_000_000;
        Assert.All(trials, t =>
        {
            Assert.Null(t.ErrorKind);
            Assert.Equal(live / 2, t.Cost, 12);
        });
        // The state in the run folder: the file, the batch, how it ended, and the output kept.
        var events = File.ReadAllLines(Path.Combine(folder, "batches", "state.jsonl")).Select(l => (string?)JsonNode.Parse(l)!["event"]).ToList();
        Assert.Equal(["uploaded", "created", "ended"], events);
        Assert.True(File.Exists(Path.Combine(folder, "batches", "batch_1.output.jsonl")));
    }

    [Fact]
    public async Task A_multi_turn_batch_run_sends_one_batch_per_step_each_holding_the_next_turn_of_every_live_episode()
    {
        using var api = new FakeBatchApi();
        var folder = Folder();
        var (result, batches) = await RunAsync(api, Request("explore-exploit", 2, folder));

        Assert.Equal(RunStatus.Finished, result.Status);
        var trials = Trials(folder);
        Assert.All(trials, t => Assert.Null(t.ErrorKind));
        var steps = trials.Select(t => t.Steps).ToList();
        // One round per step of the longest episode; each round's file holds one request per episode still playing, all the same turn.
        Assert.Equal(steps.Max(), api.Uploads.Count);
        Assert.Equal(steps.Max(), batches.Rounds);
        Assert.Equal(steps.Sum(), api.Uploads.Sum(u => u.Count));
        for (var round = 0; round < api.Uploads.Count; round++)
        {
            var ids = api.Uploads[round].Select(l => (string)l["custom_id"]!).ToList();
            Assert.Equal(steps.Count(s => s > round), ids.Count);
            Assert.All(ids, id => Assert.Contains($"-t{round}-a0", id, StringComparison.Ordinal));
            Assert.Equal(ids.Count, ids.Select(id => id[..id.IndexOf('-', StringComparison.Ordinal)]).Distinct().Count());
        }
    }

    [Fact]
    public async Task Failures_in_the_error_file_are_classified_like_live_calls_and_an_expired_request_goes_into_the_next_round()
    {
        using var api = new FakeBatchApi();
        var refused = new HashSet<string>();
        var first = true;
        api.Answer = (customId, _) =>
        {
            // The first request is refused as a live call would be (400); every other answers.
            if (first)
            {
                first = false;
                refused.Add(customId[..customId.IndexOf('-', StringComparison.Ordinal)]);
                return (400, """{"error":{"message":"Invalid 'messages'","type":"invalid_request_error","code":null}}""");
            }
            return (200, ScriptedServer.Completion("ACTION: do(A = 5)"));
        };
        api.Expire = true;
        var folder = Folder();
        var running = RunAsync(api, Request("passive-exploit-interventional", 2, folder));
        // The first batch expires: its requests come back in the error file as batch_expired and go into a second round.
        while (api.Statuses.Count(s => s == "expired") == 0 && !running.IsCompleted)
        {
            await Task.Delay(5);
        }
        api.Expire = false;
        var (result, batches) = await running;

        Assert.Equal(["in_progress", "expired", "in_progress", "completed"], api.Statuses);
        Assert.Equal(2, batches.BatchesCreated);
        var trials = Trials(folder);
        var failed = Assert.Single(trials, t => t.ErrorKind is not null);
        Assert.Equal(ErrorKinds.BadRequest, failed.ErrorKind);
        Assert.Equal(refused.Single(), failed.TrialId);
        Assert.Null(Assert.Single(trials, t => t.ErrorKind is null).ErrorKind);
        Assert.Equal(RunStatus.Failed, result.Status);
    }

    [Fact]
    public async Task A_resumed_batch_run_polls_the_batch_it_had_submitted_and_submits_nothing_twice()
    {
        using var api = new FakeBatchApi { Hold = true };
        var folder = Folder();
        // Ctrl-C while the batch runs: the trials are abandoned, the batch is left running (not cancelled).
        Assert.Equal(RunStatus.Interrupted, await StopWhileTheBatchRunsAsync(api, folder));
        Assert.Equal((1, 1, 0), (api.Uploads.Count, api.Creates, api.Cancels));
        Assert.Empty(Trials(folder));

        api.Hold = false;
        var (resumed, batches) = await RunAsync(api, new RunRequest { Resume = folder, Datasets = Repo.Datasets, NoCache = true, BatchSettings = Fast });

        Assert.Equal(RunStatus.Finished, resumed.Status);
        Assert.Equal((1, 1), (api.Uploads.Count, api.Creates));
        Assert.Equal((1, 0, 1), (batches.Rounds, batches.BatchesCreated, batches.BatchesResumed));
        var trials = Trials(folder);
        Assert.Equal(3, trials.Count);
        Assert.All(trials, t => Assert.Null(t.ErrorKind));
        Assert.All(trials, t => Assert.Equal((InputTokens * Input + OutputTokens * Output) / 2_000_000, t.Cost, 12));
    }

    [Fact]
    public async Task A_resume_after_a_crash_between_creating_the_batch_and_recording_it_finds_the_batch_by_its_file_and_creates_none()
    {
        // 150 newer batches of other files: the one of this run's file is on the list's second page.
        using var api = new FakeBatchApi { Hold = true, Unrelated = 150 };
        var folder = Folder();
        Assert.Equal(RunStatus.Interrupted, await StopWhileTheBatchRunsAsync(api, folder));
        // The crash: the provider created the batch, the process died before the state file said so.
        var state = ForgetCreatedBatches(folder);
        Assert.Equal((1, 1, 0), (api.Uploads.Count, api.Creates, api.ListCalls));

        api.Hold = false;
        var (resumed, batches) = await RunAsync(api, new RunRequest { Resume = folder, Datasets = Repo.Datasets, NoCache = true, BatchSettings = Fast });

        Assert.Equal(RunStatus.Finished, resumed.Status);
        Assert.Equal((1, 1, 2), (api.Uploads.Count, api.Creates, api.ListCalls));
        Assert.Equal((0, 1), (batches.BatchesCreated, batches.BatchesResumed));
        Assert.Equal(3, Trials(folder).Count(t => t.ErrorKind is null));
        // Found, it is recorded: a second resume would not need to look again.
        Assert.Contains(File.ReadAllLines(state), l => (string?)JsonNode.Parse(l)!["event"] == "created" && (string?)JsonNode.Parse(l)!["batch_id"] == "batch_1");
    }

    [Fact]
    public async Task A_file_uploaded_whose_batch_the_provider_never_created_gets_its_batch_on_resume_and_is_not_uploaded_again()
    {
        using var api = new FakeBatchApi { Hold = true };
        var folder = Folder();
        Assert.Equal(RunStatus.Interrupted, await StopWhileTheBatchRunsAsync(api, folder));
        ForgetCreatedBatches(folder);
        api.Forget("batch_1"); // the create never reached the provider

        api.Hold = false;
        var (resumed, batches) = await RunAsync(api, new RunRequest { Resume = folder, Datasets = Repo.Datasets, NoCache = true, BatchSettings = Fast });

        Assert.Equal(RunStatus.Finished, resumed.Status);
        Assert.Equal((1, 2, 1), (api.Uploads.Count, api.Creates, api.ListCalls));
        Assert.Equal((1, 0), (batches.BatchesCreated, batches.BatchesResumed));
        Assert.Equal(3, Trials(folder).Count(t => t.ErrorKind is null));
    }

    [Fact]
    public async Task An_azure_batch_run_goes_through_the_resources_files_and_batches_apis_with_its_api_version()
    {
        using var api = new FakeBatchApi("/openai");
        var folder = Folder();
        var environment = new Dictionary<string, string> { [ChatProviders.AzureEndpoint] = api.Server.Url!, [ChatProviders.AzureKey] = "azure-batch-test-key-0123456789" };
        var (result, batches) = await RunAsync(api, Request("passive-exploit-interventional", 2, folder) with { Models = ["azure/my-batch-deployment"] }, environment: environment);

        Assert.Equal(RunStatus.Finished, result.Status);
        Assert.Equal(["batch"], api.Purposes);
        Assert.Equal(["/chat/completions"], api.Endpoints);
        Assert.All(Assert.Single(api.Uploads), line => Assert.Equal("/chat/completions", (string?)line["url"]));
        Assert.All(api.Urls, url => Assert.Contains("api-version=", url, StringComparison.Ordinal));
        Assert.Equal((1, 1), (batches.Rounds, batches.BatchesCreated));
        Assert.All(Trials(folder), t => Assert.Null(t.ErrorKind));
    }

    [Fact]
    public async Task A_round_larger_than_the_providers_file_limit_goes_as_several_files_and_batches_in_the_same_round()
    {
        using var api = new FakeBatchApi();
        var folder = Folder();
        var (result, batches) = await RunAsync(api, Request("passive-exploit-interventional", 5, folder) with { BatchSettings = Fast with { MaxRequestsPerFile = 2 } });

        Assert.Equal(RunStatus.Finished, result.Status);
        Assert.Equal([2, 2, 1], api.Uploads.Select(u => u.Count));
        Assert.Equal((1, 3), (batches.Rounds, batches.BatchesCreated));
        Assert.Equal(5, Trials(folder).Count(t => t.ErrorKind is null));
    }

    [Fact]
    public async Task A_batch_is_polled_with_back_off_on_the_runs_clock()
    {
        var clock = new FakeClock();
        using var api = new FakeBatchApi { Hold = true, Now = clock.GetUtcNow };
        var running = RunAsync(api, Request("passive-exploit-interventional", 1, Folder()), clock: clock);
        while (api.Statuses.Count < 5 && !running.IsCompleted)
        {
            await Task.Delay(5);
        }
        api.Hold = false;
        await running;

        // Each poll waits at least 1 s, 2 s, 4 s, 4 s … after the one before (FirstPoll 1 s, doubling up to MaxPoll 4 s), on the
        // run's clock: a poll arrives no earlier than the previous one plus its wait (the clock may run on while it travels).
        var polls = api.PollTimes;
        var gaps = polls.Zip(polls.Skip(1), (a, b) => (b - a).TotalSeconds).Take(4).ToList();
        double[] waits = [1, 2, 4, 4];
        Assert.Equal(waits.Length, gaps.Count);
        Assert.All(waits.Zip(gaps), p => Assert.True(p.Second >= p.First, $"a poll {p.Second} s after the last, before its wait of {p.First} s"));
    }

    /// <summary>The closing note's figures: a multi-turn batch run's rounds, and its cost against the same tokens at the live rate.</summary>
    [Fact]
    public async Task A_multi_turn_batch_run_costs_half_the_live_price_of_the_same_tokens()
    {
        using var api = new FakeBatchApi();
        var folder = Folder();
        var (result, batches) = await RunAsync(api, Request("explore-exploit", 4, folder));

        var lines = File.ReadAllLines(Path.Combine(folder, JsonlResultStore.FileName)).Select(l => JsonNode.Parse(l)!).ToList();
        var live = Models.Costs.PriceTable.Default(Path.Combine(Repo.Root, "prompts"));
        var liveCost = lines.Sum(n => live.CostUsd(Model, new Core.Episodes.Usage((long)n["usage"]!["input_tokens"]!, (long)n["usage"]!["output_tokens"]!)));
        var batchCost = lines.Sum(n => (double)n["cost"]!);
        Assert.Equal(RunStatus.Finished, result.Status);
        Assert.Equal(liveCost / 2, batchCost, 12);
        Assert.True(batchCost > 0);
        output.WriteLine($"explore-exploit, 4 episodes, {Model}: {batches.Rounds} rounds, {batches.BatchesCreated} batches, " +
            $"{lines.Sum(n => (long)n["usage"]!["input_tokens"]!)} input + {lines.Sum(n => (long)n["usage"]!["output_tokens"]!)} output tokens; " +
            $"cost ${batchCost:0.000000} at the batch rate against ${liveCost:0.000000} live");
    }

    [Fact]
    public async Task After_a_stop_the_open_batch_is_cancelled_only_when_the_person_at_the_terminal_says_so()
    {
        using var api = new FakeBatchApi { Hold = true };
        var folder = Folder();
        using var stop = new CancellationTokenSource();
        var interrupted = RunAsync(api, Request("passive-exploit-interventional", 1, folder), stop.Token);
        while (api.Statuses.Count == 0 && !interrupted.IsCompleted)
        {
            await Task.Delay(5);
        }
        await stop.CancelAsync();
        var (_, batches) = await interrupted;

        // Nobody to ask (input redirected): left running, and the resume command printed.
        var told = await batches.SettleOpenAsync(null, folder);
        Assert.Equal(0, api.Cancels);
        Assert.Contains("were not cancelled", told, StringComparison.Ordinal);
        Assert.Contains($"--resume {folder}", told, StringComparison.Ordinal);
        // Asked, and the answer is no: the same.
        await batches.SettleOpenAsync(_ => false, folder);
        Assert.Equal(0, api.Cancels);
        // Asked, and the answer is yes: the batch is cancelled at the provider.
        var asked = new List<string>();
        await batches.SettleOpenAsync(q => { asked.Add(q); return true; }, folder);
        Assert.Equal(1, api.Cancels);
        Assert.Contains("batch_1", Assert.Single(asked), StringComparison.Ordinal);
    }

    private static RunRequest Request(string task, int episodes, string folder) => new()
    {
        Tasks = [task], Models = [Model], Prompts = ["zero-shot"], Episodes = episodes, Output = folder, Datasets = Repo.Datasets,
        NoCache = true, Batch = true, BatchSettings = Fast,
    };

    private static string Folder() => Path.Combine(Directory.CreateTempSubdirectory("causaleval-batch-").FullName, "run");

    /// <summary>A 3-trial single-turn batch run stopped (Ctrl-C) once its batch is being polled; its status.</summary>
    private static async Task<RunStatus> StopWhileTheBatchRunsAsync(FakeBatchApi api, string folder)
    {
        using var stop = new CancellationTokenSource();
        var interrupted = RunAsync(api, Request("passive-exploit-interventional", 3, folder), stop.Token);
        while (api.Statuses.Count == 0 && !interrupted.IsCompleted)
        {
            await Task.Delay(5);
        }
        await stop.CancelAsync();
        return (await interrupted).Result.Status;
    }

    /// <summary>Drops the state file's "created" lines, as a crash right after each create would have; its path.</summary>
    private static string ForgetCreatedBatches(string folder)
    {
        var state = Path.Combine(folder, "batches", "state.jsonl");
        File.WriteAllLines(state, File.ReadAllLines(state).Where(l => (string?)JsonNode.Parse(l)!["event"] != "created"));
        return state;
    }

    private static async Task<(RunResult Result, BatchRuns Batches)> RunAsync(FakeBatchApi api, RunRequest request, CancellationToken stop = default,
        FakeClock? clock = null, Dictionary<string, string>? environment = null)
    {
        clock ??= new FakeClock();
        environment ??= new Dictionary<string, string> { [ChatProviders.OpenAiKey] = "sk-batch-test-key-0123456789", [ChatProviders.OpenAiBaseUrl] = api.BaseUrl };
        using var run = EvaluationRun.Prepare(request, calls => new ModelCatalog([new BuiltinModelProvider(), .. ChatModels.Providers(
            new ProviderEnvironment(environment.GetValueOrDefault, calls.Policy.MaxResponseBytes) { Batches = calls.Batches },
            () => Repo.Setup, calls.Configure, clock)]), clock, _ => { });
        var running = run.RunAsync(null, stop);
        await clock.DriveAsync(running, TimeSpan.FromMilliseconds(250));
        return (await running, run.Calls.Batches!);
    }

    /// <summary>A trials.jsonl line as these tests read it.</summary>
    private sealed record Trial(string TrialId, string? ErrorKind, double Cost, int Steps);

    private static List<Trial> Trials(string folder)
    {
        var path = Path.Combine(folder, JsonlResultStore.FileName);
        return File.Exists(path)
            ? [.. File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!).Select(n => new Trial((string)n["trial_id"]!, (string?)n["error"]?["kind"],
                (double)n["cost"]!, n["steps"] is JsonArray steps ? steps.Count : 0))]
            : [];
    }
}
