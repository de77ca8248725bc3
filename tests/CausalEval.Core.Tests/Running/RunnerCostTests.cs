using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Running;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Results;

namespace CausalEval.Core.Tests.Running;

/// <summary>Cost per trial and per run, cached tokens counted apart, the budget, and classified agent failures.</summary>
public class RunnerCostTests
{
    /// <summary>$1 per thousand input tokens and $10 per thousand output tokens, for every model.</summary>
    private sealed class FlatPrices : ICostModel
    {
        public double CostUsd(string modelId, Usage usage) => usage.InputTokens / 1000.0 + usage.OutputTokens / 100.0;
    }

    /// <summary>
    /// <c>bill/paid</c>: the expert, each answer billed 100 input + 10 output tokens ($0.20); <c>bill/cached</c>: the same,
    /// every answer from the cache; <c>bill/limited</c>: two billed answers, then a classified failure.
    /// </summary>
    private sealed class BillingProvider : IModelProvider
    {
        public string Prefix => "bill";

        public AgentFactory Resolve(string name, string modelId) => context => new Billing(BuiltinAgents.All["expert"].Create(context), name, context.Meter);

        private sealed class Billing(IAgent inner, string mode, UsageMeter? meter) : IAgent
        {
            private int _calls;

            public async ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
            {
                if (mode == "limited" && _calls == 2)
                {
                    throw new AgentFailureException("rate_limited", "429 after 7 attempts");
                }
                _calls++;
                var usage = new Usage(100, 10);
                var cached = mode == "cached";
                meter?.Add(cached ? usage.AsCached() : usage);
                return await inner.DecideAsync(view, cancellationToken) with { Usage = usage, Cached = cached, Retries = mode == "paid" ? 1 : 0 };
            }
        }
    }

    private static readonly IReadOnlyList<TaskEpisodes> Passive =
        [new TaskEpisodes(Repo.Catalog.Load("passive-exploit-interventional"), [.. Repo.TestSplit("passive-exploit-interventional").Take(10)])];

    private static Runner MakeRunner() => new(new ModelCatalog([new BillingProvider()]), new FixedTimeProvider(), new FlatPrices());

    private static RunPlan Plan(string model, int concurrency = 1) =>
        new() { Tasks = [.. Passive.Select(t => t.Task)], Models = [model], Concurrency = concurrency };

    [Fact]
    public async Task Each_trial_costs_its_billed_tokens_and_the_run_adds_them_up()
    {
        var store = new InMemoryResultStore();

        var outcome = await MakeRunner().RunAsync(Plan("bill/paid"), Passive, store, new Leaderboard());

        Assert.All(store.Records, r =>
        {
            Assert.Equal(new Usage(100, 10), r.Usage);
            Assert.Equal(0.2, r.Cost, 12);
        });
        Assert.Equal(2.0, outcome.CostUsd, 12);
        Assert.Equal(new Usage(1000, 100), outcome.Usage);
        var line = JsonNode.Parse(Json(store.Records[0]))!;
        Assert.Equal(0.2, line["cost"]!.GetValue<double>(), 12);
        Assert.Equal(0, line["usage"]!["cached_input_tokens"]!.GetValue<long>());
        Assert.Equal(1, line["steps"]![0]!["retries"]!.GetValue<int>());
        Assert.Null(line["steps"]![0]!["cached"]);
    }

    [Fact]
    public async Task Cached_answers_are_counted_apart_at_no_cost()
    {
        var store = new InMemoryResultStore();

        var outcome = await MakeRunner().RunAsync(Plan("bill/cached"), Passive, store, new Leaderboard());

        Assert.All(store.Records, r =>
        {
            Assert.Equal(new Usage(0, 0, 100, 10), r.Usage);
            Assert.Equal(0, r.Cost);
        });
        Assert.Equal(0, outcome.CostUsd);
        var line = JsonNode.Parse(Json(store.Records[0]))!;
        Assert.True(line["steps"]![0]!["cached"]!.GetValue<bool>());
        Assert.Equal(100, line["steps"]![0]!["usage"]!["input_tokens"]!.GetValue<long>()); // as first billed
        Assert.Equal(100, line["usage"]!["cached_input_tokens"]!.GetValue<long>());
        Assert.Equal(0, line["usage"]!["input_tokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_classified_failure_keeps_its_kind_and_the_usage_spent_before_it()
    {
        var tasks = new[] { new TaskEpisodes(Repo.Catalog.Load("explore-exploit"), [.. Repo.TestSplit("explore-exploit").Take(2)]) };
        var store = new InMemoryResultStore();

        var outcome = await MakeRunner().RunAsync(new RunPlan { Tasks = [tasks[0].Task], Models = ["bill/limited"] }, tasks, store, new Leaderboard());

        Assert.All(store.Records, r =>
        {
            Assert.Equal("rate_limited", r.Error!.Kind);
            Assert.Equal("429 after 7 attempts", r.Error.Message);
            Assert.Equal(new Usage(200, 20), r.Usage); // two answers were paid for before the failure
            Assert.Equal(0.4, r.Cost, 12);
        });
        Assert.Equal(2, outcome.Errors);
    }

    [Fact]
    public async Task The_budget_stops_scheduling_once_the_spend_reaches_it()
    {
        var store = new InMemoryResultStore();
        using var budget = new RunBudget(maxCostUsd: 1.0);

        var outcome = await MakeRunner().RunAsync(Plan("bill/paid"), Passive, store, new Leaderboard(), budget: budget);

        // $0.20 a trial: the fifth reaches $1.00; with one trial at a time nothing else was in flight.
        Assert.Equal(5, store.Records.Count);
        Assert.True(outcome.StoppedByBudget);
        Assert.False(outcome.Cancelled);
        Assert.Equal(1.0, budget.SpentUsd, 12);
        Assert.Equal(1.0, outcome.CostUsd, 12);
    }

    [Fact]
    public async Task A_budget_already_spent_starts_nothing_and_one_not_reached_changes_nothing()
    {
        using var spent = new RunBudget(maxCostUsd: 1.0, spentUsd: 1.5);
        var none = new InMemoryResultStore();
        var stopped = await MakeRunner().RunAsync(Plan("bill/paid", concurrency: 4), Passive, none, new Leaderboard(), budget: spent);
        Assert.Empty(none.Records);
        Assert.True(stopped.StoppedByBudget);

        using var ample = new RunBudget(maxCostUsd: 100);
        var all = new InMemoryResultStore();
        var finished = await MakeRunner().RunAsync(Plan("bill/paid", concurrency: 4), Passive, all, new Leaderboard(), budget: ample);
        Assert.Equal(10, all.Records.Count);
        Assert.False(finished.StoppedByBudget);
        Assert.Equal(2.0, ample.SpentUsd, 12);
    }

    [Theory]
    [InlineData(-4000.02)]
    [InlineData(double.NaN)]
    [InlineData(double.NegativeInfinity)]
    public void A_budget_refuses_a_cost_that_would_lower_the_spend(double cost)
    {
        using var budget = new RunBudget(maxCostUsd: 1.0, spentUsd: 0.5);

        Assert.Throws<ArgumentOutOfRangeException>(() => budget.Add(cost));
        Assert.Equal(0.5, budget.SpentUsd);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RunBudget(1.0, spentUsd: -1));
    }

    private static string Json(TrialRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            TrialJson.Write(writer, record);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
