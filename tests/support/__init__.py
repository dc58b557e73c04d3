"""What the tests share to help themselves: waiting for what happens on its own time
(`waiting`), fake activities registered under the real ones' names (`fakes`) and those that do
nothing (`no_ops`), a Worker on a task queue of its own (`workers`), and the rows and records
most tests need (`builders`)."""
