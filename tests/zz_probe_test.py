import pytest
from io import StringIO
from django.core.management import call_command
from cases.models import Referral
pytestmark = pytest.mark.django_db
def test_probe(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("referral_id,referral_date,host_country,entity_name,proposed_amount,currency\nR-1,2017,GB,Acme,2500.505,EUR\n")
    call_command("import_referrals", str(p), stdout=StringIO())
    print("STORED", Referral.objects.get().proposed_amount)
    err = StringIO()
    try:
        call_command("import_referrals", str(p), stdout=StringIO(), stderr=err)
    except Exception as e:
        print("ERR", err.getvalue(), e)
