"""What the tests share to help themselves: waiting for what happens on its own time
(`waiting`), fake activities registered under the real ones' names (`fakes`), and the rows
and records most tests need (`builders`)."""
