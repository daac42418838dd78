package adminui_test

import (
	"testing"

	"github.com/riptide-io/riptide/internal/leakcheck"
)

// TestMain fails the run when an installed UI's statistics goroutine outlives its Close.
func TestMain(m *testing.M) { leakcheck.Main(m, "server/adminui.(*UI)") }
