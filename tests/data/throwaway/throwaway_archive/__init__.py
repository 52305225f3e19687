"""A throwaway archive, as another package would add one: this declaration (registered under the entry point group
``tom_bhtom_brokers.archives`` by the test that installs it), an adapter module and a recorded answer. Nothing of
tom_bhtom_brokers is touched to add it (tests/test_throwaway_archive.py)."""
from tom_bhtom_brokers.declaration import Survey

DECLARATION = Survey("THROWAWAY", "Throwaway", "throwaway_archive.adapter:ThrowawayBroker", ("V",), "asterisk-open",
                     name_field="Throwaway id", name_pattern=r"^TW\d{4}$", name_example="TW0001")
