using Xunit.Sdk;
using Xunit.v3;

// One cloud at a time from this project: each class starts its own, some boot real guests, and test.sh already runs
// three test projects side by side on the two cores. The classes one after another stay well within eight minutes.
[assembly: Parallelization(Mode = ParallelMode.None)]
