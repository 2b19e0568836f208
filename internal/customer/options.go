package customer

// Option lists: the stored value is a stable code; the label comes from the
// i18n catalogue under "option.<list>.<code>". Company-editable lists arrive
// with the settings issue; until then these are the defaults.
var (
	Sources    = []string{"referral", "website", "exhibition", "cold_call", "advertising", "dingtalk", "partner", "other"}
	Industries = []string{"it", "manufacturing", "retail", "finance", "education", "healthcare", "construction", "logistics", "food", "other"}
	Levels     = []string{"a", "b", "c", "d"}
	Statuses   = []string{"potential", "intent", "negotiating", "deal", "lost"}
)

// DefaultStatus is given to a new customer with no status.
const DefaultStatus = "potential"

func inList(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
