using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Support;

/// <summary>Small worlds whose total effects and optimal actions are worked out by hand in the tests.</summary>
internal static class HandWorlds
{
    /// <summary>C→A (+1), C→B (+1), A→B (+1): C confounds A and B. TE[C→B] = 1 + 1·1 = 2.</summary>
    public static World ConfoundedFork(double noiseSd = 0.1) => World.Create(
        ["A", "B", "C"],
        [new Edge("C", "A", 1), new Edge("C", "B", 1), new Edge("A", "B", 1)],
        noiseSd);

    /// <summary>A→B (+1), B→C (+1), A→C (−1): the two paths A⇝C cancel, TE[A→C] = 0.</summary>
    public static World CancellingChain(double noiseSd = 0.1) => World.Create(
        ["A", "B", "C"],
        [new Edge("A", "B", 1), new Edge("B", "C", 1), new Edge("A", "C", -1)],
        noiseSd);

    /// <summary>A→C (+1), B→C (+1): A and B are independent causes of C.</summary>
    public static World Collider(double noiseSd = 0.1) => World.Create(
        ["A", "B", "C"],
        [new Edge("A", "C", 1), new Edge("B", "C", 1)],
        noiseSd);

    /// <summary>Hidden U→A (+1), U→B (+1), and A→B (+1). TE[A→B] = 1, though A and B correlate more.</summary>
    public static World HiddenRoot(double noiseSd = 0.1) => World.Create(
        ["A", "B", "U"],
        [new Edge("U", "A", 1), new Edge("U", "B", 1), new Edge("A", "B", 1)],
        noiseSd,
        ["U"]);

    /// <summary>
    /// Five observable variables and a hidden root: U→A, U→B, A→C, B→C, C→D, A→E. Used by the engine tests.
    /// </summary>
    public static World FiveWithHidden(double noiseSd = 0.1) => World.Create(
        ["A", "B", "C", "D", "E", "U"],
        [
            new Edge("U", "A", 1), new Edge("U", "B", -1), new Edge("A", "C", 1),
            new Edge("B", "C", 1), new Edge("C", "D", -1), new Edge("A", "E", 1),
        ],
        noiseSd,
        ["U"]);
}
