using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;

namespace CausalEval.Core.Tests.Support;

/// <summary>An agent that answers from a fixed queue of decisions and records every view it was shown.</summary>
internal sealed class ScriptedAgent(params AgentDecision[] decisions) : IAgent
{
    private readonly Queue<AgentDecision> _decisions = new(decisions);

    public List<EpisodeView> Views { get; } = [];

    /// <summary>Copies of each view's history at the time it was shown (the engine's list keeps growing).</summary>
    public List<StepRecord[]> HistoriesSeen { get; } = [];

    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        Views.Add(view);
        HistoriesSeen.Add([.. view.History]);
        if (_decisions.Count == 0)
        {
            throw new InvalidOperationException($"the script has no decision left for {view.Phase} step {view.StepIndex}");
        }
        return new ValueTask<AgentDecision>(_decisions.Dequeue());
    }

    public int Remaining => _decisions.Count;
}
