using CausalEval.Core.Episodes;
using CausalEval.Core.Running;
using WireMock.ResponseBuilders;
using CausalEval.Core.Results;
using CausalEval.Models.Middleware;

namespace CausalEval.Models.Tests;

/// <summary>
/// Rate limits and faults through the production pipeline (SDK client → error classification → Polly resilience →
/// limits) against WireMock servers on loopback, on a fake clock: minutes of backoff pass in milliseconds. Every trial
/// either finishes or ends with a classified error; nothing crashes the run.
/// </summary>
public class FaultTests
{
    // Attempts get 60 s of fake time (240 ms of real time at the clock's default pace): enough for a loaded machine.
    private static readonly CallPolicy Policy = new()
    {
        Cache = new CacheSettings(Enabled: false),
        Resilience = new ResilienceSettings { Retries = 3, AttemptTimeout = TimeSpan.FromSeconds(60), CallTimeout = TimeSpan.FromMinutes(5) },
    };

    private static string Model(ScriptedServer server) => $"openai-compatible/m@{server.BaseUrl}";

    private static async Task<TrialRecord> PlayOne(FakeClock clock, ScriptedServer server, CallPolicy? policy = null)
        => Assert.Single(await Pipeline.RunAsync(clock, policy ?? Policy, [Model(server)]));

    [Fact]
    public async Task A_429_with_Retry_After_is_retried_after_exactly_the_wait_the_server_asked_for()
    {
        var clock = new FakeClock();
        using var server = new ScriptedServer(
            Reply.Error(429, "rate_limit_exceeded", "Rate limit reached, try again in 7s", ("Retry-After", "7")),
            Reply.Ok());

        var trial = await PlayOne(clock, server);

        Assert.Null(trial.Error);
        Assert.Equal(2, server.Requests);
        Assert.Equal(1, trial.Transcript!.Steps[0].Decision.Retries);
        // The wait the retry used is the server's, and the fake clock let at least that much pass before the retry arrived
        // (arrivals are placed on the clock's 250 ms ticks, hence the one-tick margin; a loaded machine may add more).
        Assert.Contains("retried after 7 s", Assert.Single(trial.Transcript.Steps[0].Decision.RetryReasons));
        var arrivals = server.Arrivals(clock);
        Assert.True((arrivals[1] - arrivals[0]).TotalSeconds >= 6.75, $"the retry came {arrivals[1] - arrivals[0]} after the 429");
    }

    [Fact]
    public async Task Retry_after_ms_wins_over_the_backoff()
    {
        var clock = new FakeClock();
        using var server = new ScriptedServer(
            Reply.Error(429, "rate_limit_exceeded", "slow down", ("retry-after-ms", "30000")),
            Reply.Ok());

        var trial = await PlayOne(clock, server, Policy with { Resilience = Policy.Resilience with { BackoffBase = TimeSpan.FromMilliseconds(100) } });

        Assert.Null(trial.Error);
        Assert.Contains("retried after 30 s", Assert.Single(trial.Transcript!.Steps[0].Decision.RetryReasons));
        var arrivals = server.Arrivals(clock);
        Assert.True((arrivals[1] - arrivals[0]).TotalSeconds >= 29.75, $"the retry came {arrivals[1] - arrivals[0]} after the 429");
    }

    [Fact]
    public async Task Server_errors_are_retried_with_backoff_and_the_trial_finishes()
    {
        var clock = new FakeClock();
        using var server = new ScriptedServer(
            Reply.Error(500, "server_error", "The server had an error"),
            Reply.Error(503, "overloaded", "The engine is overloaded"),
            Reply.Ok());

        var trial = await PlayOne(clock, server);

        Assert.Null(trial.Error);
        Assert.Equal(3, server.Requests);
        Assert.Equal(2, trial.Transcript!.Steps[0].Decision.Retries);
        Assert.NotNull(trial.Scores);
        // Exponential backoff from 1 s with jitter: the second wait is longer on average, and neither is instant.
        var arrivals = server.Arrivals(clock);
        Assert.True(arrivals[1] - arrivals[0] >= TimeSpan.FromMilliseconds(250));
    }

    [Fact]
    public async Task Server_errors_that_never_stop_end_the_trial_as_server_error_after_the_retries()
    {
        var clock = new FakeClock();
        using var server = new ScriptedServer(Reply.Error(502, "bad_gateway", "Bad gateway"));

        var trial = await PlayOne(clock, server);

        Assert.Equal("server_error", trial.Error!.Kind);
        Assert.Contains("gave up after 4 attempts", trial.Error.Message);
        Assert.Equal(1 + Policy.Resilience.Retries, server.Requests);
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out_per_attempt_and_ends_as_timeout()
    {
        var clock = new FakeClock();
        // Holds every request for 10 minutes of real time; the fake clock passes the 60 s attempt timeout long before that.
        using var server = new ScriptedServer(new Reply(200, ScriptedServer.Completion("ACTION: do(A = 5)"), Delay: TimeSpan.FromMinutes(10)));

        var trial = await PlayOne(clock, server, Policy with { Resilience = Policy.Resilience with { Retries = 2 } });

        // The attempts timed out on the fake clock (60 s each), while the server held each one for minutes of real time.
        Assert.Equal("timeout", trial.Error!.Kind);
        Assert.Contains("attempt timeout of 60 s", trial.Error.Message);
        Assert.Equal(3, server.Requests);
        // No usage ever arrived, so no tokens and no cost are counted; the three abandoned attempts are, for reconciling
        // with the provider's bill.
        Assert.Equal(new Usage(0, 0, UnmeteredAttempts: 3), trial.Usage);
    }

    [Fact]
    public async Task A_slow_answer_within_the_attempt_timeout_is_a_success_and_the_call_timeout_bounds_the_whole_call()
    {
        var clock = new FakeClock();
        using var server = new ScriptedServer(new Reply(200, ScriptedServer.Completion("ACTION: do(A = 5)"), Delay: TimeSpan.FromMinutes(10)));

        var trial = await PlayOne(clock, server, Policy with
        {
            Resilience = Policy.Resilience with { Retries = 10, AttemptTimeout = TimeSpan.FromSeconds(30), CallTimeout = TimeSpan.FromSeconds(100) },
        });

        Assert.Equal("timeout", trial.Error!.Kind);
        Assert.Contains("call timeout of 100 s", trial.Error.Message);
        Assert.InRange(server.Requests, 2, 4); // 30 s attempts plus backoff fit only a few times into 100 s
    }

    [Fact]
    public async Task A_reset_connection_is_a_network_error_that_is_retried()
    {
        var clock = new FakeClock();
        using var server = new ResettingServer(resets: 2);

        var trial = Assert.Single(await Pipeline.RunAsync(clock, Policy, [$"openai-compatible/m@{server.BaseUrl}"]));

        Assert.Null(trial.Error);
        Assert.Equal(3, server.Connections);
        Assert.Equal(2, trial.Transcript!.Steps[0].Decision.Retries);
    }

    [Fact]
    public async Task Connections_that_always_reset_end_the_trial_as_network()
    {
        var clock = new FakeClock();
        using var server = new ResettingServer(resets: int.MaxValue);

        var trial = Assert.Single(await Pipeline.RunAsync(clock, Policy, [$"openai-compatible/m@{server.BaseUrl}"]));

        Assert.True("network" == trial.Error!.Kind, trial.Error.Message);
        Assert.Contains("reset", trial.Error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1 + Policy.Resilience.Retries, server.Connections);
    }

    [Fact]
    public async Task A_response_cut_off_mid_body_is_retried()
    {
        var clock = new FakeClock();
        using var server = new ScriptedServer(
            new Reply(Fault: FaultType.MALFORMED_RESPONSE_CHUNK),
            Reply.Ok());

        var trial = await PlayOne(clock, server);

        Assert.Null(trial.Error);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task A_malformed_JSON_body_is_retried_then_classified_as_bad_response()
    {
        var clock = new FakeClock();
        using var server = new ScriptedServer(new Reply(200, "{\"id\": \"chatcmpl-1\", \"choices\": [{\"index\": 0, \"message\": {\"role\": \"assis"));

        var trial = await PlayOne(clock, server);

        Assert.Equal("bad_response", trial.Error!.Kind);
        Assert.Equal(1 + Policy.Resilience.Retries, server.Requests);

        using var recovering = new ScriptedServer(
            new Reply(200, "<html>502 Bad Gateway</html>"),
            Reply.Ok());
        Assert.Null((await PlayOne(clock, recovering)).Error);
    }

    [Fact]
    public async Task A_401_is_not_retried_and_ends_the_trial_as_auth_without_the_key()
    {
        var clock = new FakeClock();
        using var server = new ScriptedServer(Reply.Error(401, "invalid_api_key",
            $"Incorrect API key provided: {Pipeline.CompatibleKey}. You can find your API key at https://platform.openai.com/account/api-keys."));

        var trial = await PlayOne(clock, server);

        Assert.True("auth" == trial.Error!.Kind, trial.Error.Message);
        Assert.Equal(1, server.Requests);
        Assert.DoesNotContain(Pipeline.CompatibleKey, trial.Error.Message);
        Assert.DoesNotContain(Pipeline.CompatibleKey[^12..], trial.Error.Message);
        Assert.Contains("[redacted]", trial.Error.Message);
    }

    [Theory]
    [InlineData(403, "forbidden", "auth")]
    [InlineData(400, "invalid_request_error", "bad_request")]
    [InlineData(404, "model_not_found", "not_found")]
    [InlineData(429, "insufficient_quota", "quota")]
    public async Task Refusals_are_not_retried_and_are_classified(int status, string code, string kind)
    {
        var clock = new FakeClock();
        using var server = new ScriptedServer(Reply.Error(status, code, "refused"));

        var trial = await PlayOne(clock, server);

        Assert.Equal(kind, trial.Error!.Kind);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task A_content_filter_refusal_of_the_prompt_is_not_retried_and_is_classified()
    {
        var clock = new FakeClock();
        // Azure OpenAI's shape: 400 with code content_filter and an inner ResponsibleAIPolicyViolation.
        using var server = new ScriptedServer(new Reply(400, """
            {"error": {"message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
                       "type": null, "param": "prompt", "code": "content_filter", "status": 400,
                       "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {"violence": {"filtered": true, "severity": "medium"}}}}}
            """));

        var trial = await PlayOne(clock, server);

        Assert.Equal("content_filter", trial.Error!.Kind);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task An_answer_stopped_by_the_content_filter_is_not_retried_and_is_classified()
    {
        var clock = new FakeClock();
        using var server = new ScriptedServer(new Reply(200, ScriptedServer.Completion("", finishReason: "content_filter")));

        var trial = await PlayOne(clock, server);

        Assert.Equal("content_filter", trial.Error!.Kind);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task A_run_over_every_fault_at_once_finishes_every_trial_or_classifies_it()
    {
        var clock = new FakeClock();
        using var flaky = new ScriptedServer(
            Reply.Error(429, "rate_limit_exceeded", "wait", ("Retry-After", "3")),
            Reply.Error(503, "overloaded", "busy"),
            Reply.Error(500, "server_error", "oops"),
            Reply.Ok());
        using var resetting = new ResettingServer(resets: 2);
        using var refusing = new ScriptedServer(Reply.Error(401, "invalid_api_key", "no"));
        using var filtering = new ScriptedServer(Reply.Error(400, "content_filter", "filtered"));
        using var broken = new ScriptedServer(new Reply(200, "not json"));
        using var silent = new ScriptedServer(new Reply(200, ScriptedServer.Completion("ACTION: do(A = 5)"), Delay: TimeSpan.FromMinutes(10)));
        var dropped = $"openai-compatible/m@{resetting.BaseUrl}";
        string[] models = [Model(flaky), dropped, Model(refusing), Model(filtering), Model(broken), Model(silent), "builtin/expert"];

        var trials = await Pipeline.RunAsync(clock, Policy, models, episodes: 3, concurrency: 4);

        Assert.Equal(3 * models.Length, trials.Count);
        var kinds = trials.GroupBy(t => t.Spec.Model).ToDictionary(g => g.Key, g => string.Join(",", g.Select(t => t.Error?.Kind ?? "ok").Distinct()));
        Assert.True("ok" == kinds[Model(flaky)], string.Join("\n", trials.Where(t => t.Error is not null).Select(t => $"{t.Spec.Model}: {t.Error!.Message}")));
        Assert.Equal("ok", kinds[dropped]);
        Assert.Equal("auth", kinds[Model(refusing)]);
        Assert.Equal("content_filter", kinds[Model(filtering)]);
        Assert.Equal("bad_response", kinds[Model(broken)]);
        Assert.Equal("timeout", kinds[Model(silent)]);
        Assert.Equal("ok", kinds["builtin/expert"]);
    }
}
